/*
 * test_image.c - agent/image.h on real files: small C programs compiled
 * with `cc` into a temporary directory (twice the same program under other
 * build ids, at other absolute paths with -g, stripped; a changed
 * constant), ELF files of both classes and byte orders written byte by
 * byte, files that are not ELF or are truncated, and the mapped files of
 * real processes.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <elf.h>
#include <errno.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "agent/image.h"
#include "agent/numa.h"
#include "common/err.h"
#include "common/util.h"

extern char **environ;

#define SHA_A "1111111111aaaaaaaaaabbbbbbbbbbcccccccccc"
#define SHA_B "2222222222dddddddddd3333333333eeeeeeeeee"

/* A program that records its source path and asserts: its .rodata holds
 * __FILE__, as a build under absolute paths (CMake's) does. */
static const char program[] =
	"#include <assert.h>\n"
	"#include <stdio.h>\n"
	"#include <unistd.h>\n"
	"#ifndef K\n#define K 3\n#endif\n"
	"int main(int argc, char **argv)\n"
	"{\n"
	"\tassert(argc > 0);\n"
	"\tif (argc > 1)\n"
	"\t\tsleep(5);\n"
	"\tprintf(\"%s %d %s\\n\", __FILE__, K, argv[0]);\n"
	"\treturn 0;\n"
	"}\n";

struct fixture {
	char dir[64];
};

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));
	char tmpl[] = "/tmp/pb-test-image-XXXXXX";

	if (!f || !mkdtemp(tmpl))
		return -1;
	pb_strlcpy(f->dir, tmpl, sizeof(f->dir));
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;

	pb_rm_rf(f->dir);
	free(f);
	return 0;
}

/* dir/name, in a static buffer of its own per slot. */
static const char *at(const struct fixture *f, int slot, const char *name)
{
	static char buf[8][512];

	snprintf(buf[slot], sizeof(buf[slot]), "%s/%s", f->dir, name);
	return buf[slot];
}

static void write_file(const char *path, const void *data, size_t len)
{
	FILE *fp = fopen(path, "wb");

	assert_non_null(fp);
	assert_int_equal(fwrite(data, 1, len, fp), len);
	assert_int_equal(fclose(fp), 0);
}

static void run(const char *const *argv)
{
	pid_t pid;
	int st;

	assert_int_equal(posix_spawnp(&pid, argv[0], NULL, NULL,
				      (char *const *)argv, environ), 0);
	assert_int_equal(waitpid(pid, &st, 0), pid);
	assert_true(WIFEXITED(st) && WEXITSTATUS(st) == 0);
}

/* cc -O1 [extra...] -o out src */
static void cc(const char *src, const char *out, const char *x1,
	       const char *x2)
{
	const char *argv[8];
	int k = 0;

	argv[k++] = "cc";
	argv[k++] = "-O1";
	if (x1)
		argv[k++] = x1;
	if (x2)
		argv[k++] = x2;
	argv[k++] = "-o";
	argv[k++] = out;
	argv[k++] = src;
	argv[k] = NULL;
	run(argv);
}

static void digest_ok(struct pb_image_digest *d, const char *path,
		      const char *mask)
{
	int rc = pb_image_digest(d, path, mask);

	if (rc < 0)
		print_error("%s\n", pb_error_last());
	assert_int_equal(rc, PB_OK);
	assert_int_equal(d->elf, 1);
	assert_int_equal(strlen(d->hex), strlen(PB_IMAGE_DIGEST_PREFIX) + 64);
	assert_memory_equal(d->hex, PB_IMAGE_DIGEST_PREFIX,
			    strlen(PB_IMAGE_DIGEST_PREFIX));
}

static int files_equal(const char *a, const char *b)
{
	FILE *x = fopen(a, "rb"), *y = fopen(b, "rb");
	int ca, cb, same = 1;

	assert_non_null(x);
	assert_non_null(y);
	do {
		ca = fgetc(x);
		cb = fgetc(y);
		if (ca != cb)
			same = 0;
	} while (same && ca != EOF);
	fclose(x);
	fclose(y);
	return same;
}

static void test_image__same_program_other_build_id(void **state)
{
	struct fixture *f = *state;
	struct pb_image_digest a, b, c;

	write_file(at(f, 0, "p.c"), program, sizeof(program) - 1);
	cc(at(f, 0, "p.c"), at(f, 1, "a"),
	   "-Wl,--build-id=0x0123456789abcdef0123456789abcdef01234567", NULL);
	cc(at(f, 0, "p.c"), at(f, 2, "b"),
	   "-Wl,--build-id=0xfedcba9876543210fedcba9876543210fedcba98", NULL);
	assert_false(files_equal(at(f, 1, "a"), at(f, 2, "b")));
	digest_ok(&a, at(f, 1, "a"), NULL);
	digest_ok(&b, at(f, 2, "b"), NULL);
	assert_string_equal(a.hex, b.hex);
	/* with -g and a default build id (which then hashes the debug
	 * information too), and stripped: the loader maps the same */
	cc(at(f, 0, "p.c"), at(f, 3, "g"), "-g", NULL);
	digest_ok(&c, at(f, 3, "g"), NULL);
	assert_string_equal(a.hex, c.hex);
	{
		const char *argv[] = { "strip", at(f, 3, "g"), NULL };

		run(argv);
	}
	digest_ok(&c, at(f, 3, "g"), NULL);
	assert_string_equal(a.hex, c.hex);
}

static void test_image__changed_constant_differs(void **state)
{
	struct fixture *f = *state;
	struct pb_image_digest a, b;

	write_file(at(f, 0, "p.c"), program, sizeof(program) - 1);
	cc(at(f, 0, "p.c"), at(f, 1, "a"), NULL, NULL);
	cc(at(f, 0, "p.c"), at(f, 2, "b"), "-DK=4", NULL);
	digest_ok(&a, at(f, 1, "a"), NULL);
	digest_ok(&b, at(f, 2, "b"), NULL);
	assert_string_not_equal(a.hex, b.hex);
	/* and the mask hides nothing that is not the sha */
	digest_ok(&a, at(f, 1, "a"), SHA_A);
	digest_ok(&b, at(f, 2, "b"), SHA_A);
	assert_string_not_equal(a.hex, b.hex);
}

/* Two work trees named like perfbisect's (<bench>-<sha>), the program
 * compiled with -g under its absolute path there: __FILE__ differs in the
 * sha only, and the mask makes the two the same program. */
static void test_image__work_tree_paths_masked(void **state)
{
	struct fixture *f = *state;
	struct pb_image_digest a, b, a0, b0, bx;

	assert_int_equal(mkdir(at(f, 0, "1-" SHA_A), 0755), 0);
	assert_int_equal(mkdir(at(f, 0, "1-" SHA_B), 0755), 0);
	write_file(at(f, 0, "1-" SHA_A "/p.c"), program, sizeof(program) - 1);
	write_file(at(f, 1, "1-" SHA_B "/p.c"), program, sizeof(program) - 1);
	cc(at(f, 0, "1-" SHA_A "/p.c"), at(f, 2, "1-" SHA_A "/p"), "-g", NULL);
	cc(at(f, 1, "1-" SHA_B "/p.c"), at(f, 3, "1-" SHA_B "/p"), "-g", NULL);
	digest_ok(&a0, at(f, 2, "1-" SHA_A "/p"), NULL);
	digest_ok(&b0, at(f, 3, "1-" SHA_B "/p"), NULL);
	assert_string_not_equal(a0.hex, b0.hex); /* __FILE__ differs */
	digest_ok(&a, at(f, 2, "1-" SHA_A "/p"), SHA_A);
	digest_ok(&b, at(f, 3, "1-" SHA_B "/p"), SHA_B);
	assert_string_equal(a.hex, b.hex);
	/* each file masked with the other's sha is masked nowhere */
	digest_ok(&bx, at(f, 3, "1-" SHA_B "/p"), SHA_A);
	assert_string_equal(bx.hex, b0.hex);
}

static void test_image__not_elf_and_missing(void **state)
{
	struct fixture *f = *state;
	struct pb_image_digest d;
	static const char text[] = "#!/bin/sh\necho score: 1\n";

	write_file(at(f, 0, "run.sh"), text, sizeof(text) - 1);
	assert_int_equal(pb_image_digest(&d, at(f, 0, "run.sh"), SHA_A), PB_OK);
	assert_int_equal(d.elf, 0);
	write_file(at(f, 0, "empty"), "", 0);
	assert_int_equal(pb_image_digest(&d, at(f, 0, "empty"), NULL), PB_OK);
	assert_int_equal(d.elf, 0);
	write_file(at(f, 0, "ab"), "\177E", 2);
	assert_int_equal(pb_image_digest(&d, at(f, 0, "ab"), NULL), PB_OK);
	assert_int_equal(d.elf, 0);
	assert_int_equal(pb_image_digest(&d, at(f, 0, "nothing-here"), NULL),
			 PB_ENOTFOUND);
	assert_int_equal(d.elf, 0);
	/* a directory is no program, a symlink (put where a mapped file
	 * was) is not followed */
	assert_true(pb_image_digest(&d, f->dir, NULL) < 0);
	assert_int_equal(d.elf, 0);
	assert_int_equal(symlink("/bin/sh", at(f, 1, "link")), 0);
	assert_true(pb_image_digest(&d, at(f, 1, "link"), NULL) < 0);
	assert_int_equal(d.elf, 0);
}

/* Every prefix of a real program is an error with a message, never a
 * crash or a digest (the section headers sit at the end of the file). */
static void test_image__truncated_elf(void **state)
{
	struct fixture *f = *state;
	struct pb_image_digest d;
	unsigned char *buf;
	struct stat st;
	FILE *fp;
	size_t cuts[] = { 4, 5, 16, 40, 63, 64, 200, 4096 };

	write_file(at(f, 0, "p.c"), program, sizeof(program) - 1);
	cc(at(f, 0, "p.c"), at(f, 1, "a"), NULL, NULL);
	assert_int_equal(stat(at(f, 1, "a"), &st), 0);
	buf = malloc((size_t)st.st_size);
	assert_non_null(buf);
	fp = fopen(at(f, 1, "a"), "rb");
	assert_non_null(fp);
	assert_int_equal(fread(buf, 1, (size_t)st.st_size, fp),
			 (size_t)st.st_size);
	fclose(fp);
	for (size_t k = 0; k <= PB_ARRAY_SIZE(cuts); k++) {
		size_t len = k < PB_ARRAY_SIZE(cuts) ? cuts[k]
						     : (size_t)st.st_size - 1;
		int rc;

		write_file(at(f, 2, "t"), buf, len);
		rc = pb_image_digest(&d, at(f, 2, "t"), NULL);
		assert_int_equal(rc, PB_EINVAL);
		assert_int_equal(d.elf, 0);
		assert_non_null(strstr(pb_error_last(), "ELF"));
	}
	/* section headers that point past the end */
	{
		Elf64_Ehdr h;
		size_t shoff_at = offsetof(Elf64_Ehdr, e_shoff);
		uint64_t far = (uint64_t)st.st_size + 4096;

		memcpy(&h, buf, sizeof(h));
		if (h.e_ident[EI_CLASS] == ELFCLASS64 &&
		    h.e_ident[EI_DATA] == ELFDATA2LSB) {
			for (int i = 0; i < 8; i++)
				buf[shoff_at + i] = (unsigned char)(far >> (8 * i));
			write_file(at(f, 2, "t"), buf, (size_t)st.st_size);
			assert_int_equal(pb_image_digest(&d, at(f, 2, "t"),
							 NULL), PB_EINVAL);
		}
	}
	free(buf);
}

/* ---- ELF files written byte by byte: both classes, both byte orders -- */

struct crafted {
	int is64, msb;
	const unsigned char *text;   /* .text's bytes (SHF_ALLOC) */
	size_t text_len;
	unsigned char build_id;      /* every byte of the 8-byte build id */
	unsigned char comment;       /* .comment (not mapped) */
};

static void put(unsigned char *p, size_t off, uint64_t v, int size, int msb)
{
	for (int i = 0; i < size; i++)
		p[off + (msb ? size - 1 - i : i)] = (unsigned char)(v >> (8 * i));
}

/* Layout: header, .text at 0x100, then the build-id note, .comment,
 * .shstrtab, and the section headers; no program headers. */
static void craft(const char *path, const struct crafted *c)
{
	static const char names[] = "\0.text\0.note.gnu.build-id\0.comment\0"
				    ".shstrtab";
	size_t text_off = 0x100, note_off, comment_off, names_off, sh_off;
	size_t shent = c->is64 ? sizeof(Elf64_Shdr) : sizeof(Elf32_Shdr);
	size_t total, w = c->is64 ? 8 : 4;
	unsigned char *p;
	int m = c->msb;

	note_off = (text_off + c->text_len + 7) & ~(size_t)7;
	comment_off = note_off + 24;
	names_off = comment_off + 8;
	sh_off = (names_off + sizeof(names) + 7) & ~(size_t)7;
	total = sh_off + 5 * shent;
	p = calloc(1, total);
	assert_non_null(p);
	memcpy(p, ELFMAG, SELFMAG);
	p[EI_CLASS] = c->is64 ? ELFCLASS64 : ELFCLASS32;
	p[EI_DATA] = m ? ELFDATA2MSB : ELFDATA2LSB;
	p[EI_VERSION] = EV_CURRENT;
	put(p, 16, ET_EXEC, 2, m);                       /* e_type */
	put(p, 18, c->is64 ? EM_X86_64 : EM_386, 2, m);  /* e_machine */
	put(p, 20, EV_CURRENT, 4, m);                    /* e_version */
	put(p, 24, 0x400100, (int)w, m);                 /* e_entry */
	put(p, 24 + w, 0, (int)w, m);                    /* e_phoff */
	put(p, 24 + 2 * w, sh_off, (int)w, m);           /* e_shoff */
	put(p, 24 + 3 * w, 0, 4, m);                     /* e_flags */
	put(p, 28 + 3 * w, c->is64 ? 64 : 52, 2, m);     /* e_ehsize */
	put(p, 30 + 3 * w, c->is64 ? 56 : 32, 2, m);     /* e_phentsize */
	put(p, 32 + 3 * w, 0, 2, m);                     /* e_phnum */
	put(p, 34 + 3 * w, shent, 2, m);                 /* e_shentsize */
	put(p, 36 + 3 * w, 5, 2, m);                     /* e_shnum */
	put(p, 38 + 3 * w, 4, 2, m);                     /* e_shstrndx */
	memcpy(p + text_off, c->text, c->text_len);
	put(p, note_off, 4, 4, m);
	put(p, note_off + 4, 8, 4, m);
	put(p, note_off + 8, NT_GNU_BUILD_ID, 4, m);
	memcpy(p + note_off + 12, "GNU", 4);
	memset(p + note_off + 16, c->build_id, 8);
	memset(p + comment_off, c->comment, 8);
	memcpy(p + names_off, names, sizeof(names));
	/* sections 1..4: name, type, flags, addr, offset, size */
	{
		struct { size_t name; uint32_t type; uint64_t flags, addr,
			 off, size; } s[4] = {
			{ 1, SHT_PROGBITS, SHF_ALLOC | SHF_EXECINSTR,
			  0x400100, text_off, c->text_len },
			{ 7, SHT_NOTE, SHF_ALLOC, 0x500000, note_off, 24 },
			{ 26, SHT_PROGBITS, 0, 0, comment_off, 8 },
			{ 35, SHT_STRTAB, 0, 0, names_off, sizeof(names) },
		};

		for (int i = 0; i < 4; i++) {
			size_t o = sh_off + (size_t)(i + 1) * shent;

			put(p, o, s[i].name, 4, m);
			put(p, o + 4, s[i].type, 4, m);
			put(p, o + 8, s[i].flags, (int)w, m);
			put(p, o + 8 + w, s[i].addr, (int)w, m);
			put(p, o + 8 + 2 * w, s[i].off, (int)w, m);
			put(p, o + 8 + 3 * w, s[i].size, (int)w, m);
			put(p, o + 16 + 4 * w, 4, (int)w, m); /* sh_addralign */
		}
	}
	write_file(path, p, total);
	free(p);
}

static void test_image__both_classes_and_byte_orders(void **state)
{
	struct fixture *f = *state;
	unsigned char text[16] = { 0x90, 0x90, 0xc3, 1, 2, 3 };
	struct pb_image_digest d[4], x;

	for (int v = 0; v < 4; v++) {
		struct crafted c = { v & 1, v >> 1, text, sizeof(text), 0x11,
				     'a' };
		struct pb_image_digest y;

		craft(at(f, 0, "e"), &c);
		digest_ok(&d[v], at(f, 0, "e"), NULL);
		/* another build id and another .comment: the same image */
		c.build_id = 0x22;
		c.comment = 'b';
		craft(at(f, 0, "e"), &c);
		digest_ok(&y, at(f, 0, "e"), NULL);
		assert_string_equal(d[v].hex, y.hex);
		/* one byte of code: another image */
		text[5] ^= 0xff;
		craft(at(f, 0, "e"), &c);
		digest_ok(&y, at(f, 0, "e"), NULL);
		assert_string_not_equal(d[v].hex, y.hex);
		text[5] ^= 0xff;
		/* a section past the end of the file */
		c.text_len = 1 << 20;
		c.text = calloc(1, c.text_len);
		assert_non_null(c.text);
		craft(at(f, 1, "big"), &c);
		free((void *)c.text);
		assert_int_equal(truncate(at(f, 1, "big"), 0x100 + 1000), 0);
		assert_int_equal(pb_image_digest(&x, at(f, 1, "big"), NULL),
				 PB_EINVAL);
	}
	/* the class and byte order are part of the image */
	assert_string_not_equal(d[0].hex, d[1].hex);
	assert_string_not_equal(d[0].hex, d[2].hex);
	assert_string_not_equal(d[1].hex, d[3].hex);
}

/* A sha that straddles the 256 KiB chunk boundary of the hashing is
 * masked whole; one file's sha against zeros in the other is no match. */
static void test_image__mask_across_chunks(void **state)
{
	struct fixture *f = *state;
	size_t len = 300 * 1024, pos = 256 * 1024 - 17;
	unsigned char *text = calloc(1, len);
	struct crafted c = { 1, 0, text, len, 0x11, 'a' };
	struct pb_image_digest a, b, z;

	assert_non_null(text);
	memcpy(text + pos, SHA_A, 40);
	memcpy(text + 1000, SHA_A, 12);      /* an abbreviation, too */
	craft(at(f, 0, "a"), &c);
	memcpy(text + pos, SHA_B, 40);
	memcpy(text + 1000, SHA_B, 12);
	craft(at(f, 1, "b"), &c);
	memset(text + pos, 0, 40);
	memset(text + 1000, 0, 12);
	craft(at(f, 2, "z"), &c);
	digest_ok(&a, at(f, 0, "a"), SHA_A);
	digest_ok(&b, at(f, 1, "b"), SHA_B);
	digest_ok(&z, at(f, 2, "z"), SHA_B);
	assert_string_equal(a.hex, b.hex);
	assert_string_not_equal(a.hex, z.hex);
	/* unmasked they differ */
	digest_ok(&a, at(f, 0, "a"), NULL);
	digest_ok(&b, at(f, 1, "b"), NULL);
	assert_string_not_equal(a.hex, b.hex);
	free(text);
}

/* ---- the mapped files ------------------------------------------------- */

static void test_image__files_from_maps(void **state)
{
	static const char maps[] =
		"55d0-55d1 r--p 00000000 fe:00 11 /w/1-abc/bench\n"
		"55d1-55d2 r-xp 00001000 fe:00 11 /w/1-abc/bench\n"
		"7f00-7f01 r-xp 00000000 fe:00 12 /usr/lib/libc.so.6\n"
		"7f01-7f02 r-xp 00000000 fe:00 13 /w/1-abc/lib/libz.so.1\n"
		"7f02-7f03 r--p 00000000 fe:00 14 /w/1-abcd/other\n"
		"7f03-7f04 r--p 00000000 fe:00 15 /w/1-abc\n"
		"7f04-7f05 r--p 00000000 fe:00 16 /w/1-abc/a file (deleted)\n"
		"7f05-7f06 rw-p 00000000 00:00 0 \n"
		"7f06-7f07 rw-p 00000000 00:00 0 [heap]\n"
		"garbage\n";
	static const char py_maps[] =
		"55d0-55d1 r-xp 00000000 fe:00 21 /usr/bin/python3\n"
		"7f00-7f01 r-xp 00000000 fe:00 12 /usr/lib/libc.so.6\n";
	struct pb_image_files s;
	FILE *fp = fmemopen((void *)maps, sizeof(maps) - 1, "r");

	(void)state;
	assert_non_null(fp);
	pb_image_files_init(&s);
	assert_int_equal(pb_image_files_add_maps(&s, "/w/1-abc",
						 "/w/1-abc/bench", fp), PB_OK);
	fclose(fp);
	assert_int_equal(s.n, 3);
	assert_string_equal(s.path[0], "a file (deleted)");
	assert_string_equal(s.path[1], "bench");
	assert_string_equal(s.path[2], "lib/libz.so.1");
	assert_int_equal(s.truncated, 0);
	assert_string_equal(s.foreign, "");
	/* an interpreter from elsewhere that maps nothing from the tree is
	 * no matter (the shell of the run command) ... */
	fp = fmemopen((void *)py_maps, sizeof(py_maps) - 1, "r");
	assert_non_null(fp);
	assert_int_equal(pb_image_files_add_maps(&s, "/w/1-abc",
						 "/usr/bin/python3", fp), PB_OK);
	fclose(fp);
	assert_string_equal(s.foreign, "");
	/* ... one that loads an extension built there is noted */
	fp = fmemopen((void *)maps, sizeof(maps) - 1, "r");
	assert_non_null(fp);
	assert_int_equal(pb_image_files_add_maps(&s, "/w/1-abc",
						 "/usr/bin/python3", fp), PB_OK);
	fclose(fp);
	assert_string_equal(s.foreign, "/usr/bin/python3");
	assert_int_equal(s.n, 3);
	/* the cap */
	for (int i = 0; i < PB_IMAGE_MAX_FILES + 10; i++) {
		char name[32];

		snprintf(name, sizeof(name), "f%04d", i);
		assert_int_equal(pb_image_files_add(&s, name), PB_OK);
	}
	assert_int_equal(s.n, PB_IMAGE_MAX_FILES);
	assert_int_equal(s.truncated, 1);
	for (size_t i = 1; i < s.n; i++)
		assert_true(strcmp(s.path[i - 1], s.path[i]) < 0);
	pb_image_files_release(&s);
	assert_int_equal(s.n, 0);
	pb_image_files_release(NULL);
}

/* A real process started from the directory: its executable is found,
 * and nothing outside the directory. */
static void test_image__scan_a_running_program(void **state)
{
	struct fixture *f = *state;
	struct pb_image_files s;
	char *root = realpath(f->dir, NULL);
	const char *argv[] = { NULL, "sleep", NULL };
	struct timespec ts = { 0, 10 * 1000 * 1000 };
	pid_t pid;
	int st, found = 0;

	assert_non_null(root);
	write_file(at(f, 0, "p.c"), program, sizeof(program) - 1);
	cc(at(f, 0, "p.c"), at(f, 1, "prog"), NULL, NULL);
	argv[0] = at(f, 1, "prog");
	assert_int_equal(posix_spawn(&pid, argv[0], NULL, NULL,
				     (char *const *)argv, environ), 0);
	pb_image_files_init(&s);
	for (int k = 0; k < 300 && !found; k++) {
		assert_int_equal(pb_image_files_scan(&s, root, pid,
						     PB_NUMA_TREE), PB_OK);
		found = s.n > 0;
		if (!found)
			nanosleep(&ts, NULL);
	}
	kill(pid, SIGKILL);
	assert_int_equal(waitpid(pid, &st, 0), pid);
	assert_int_equal(s.n, 1);
	assert_string_equal(s.path[0], "prog");
	pb_image_files_release(&s);
	/* a process that is gone adds nothing and is no error */
	assert_int_equal(pb_image_files_scan(&s, root, pid, PB_NUMA_TREE),
			 PB_OK);
	assert_int_equal(s.n, 0);
	free(root);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(
			test_image__same_program_other_build_id, setup,
			teardown),
		cmocka_unit_test_setup_teardown(
			test_image__changed_constant_differs, setup, teardown),
		cmocka_unit_test_setup_teardown(
			test_image__work_tree_paths_masked, setup, teardown),
		cmocka_unit_test_setup_teardown(
			test_image__not_elf_and_missing, setup, teardown),
		cmocka_unit_test_setup_teardown(test_image__truncated_elf,
						setup, teardown),
		cmocka_unit_test_setup_teardown(
			test_image__both_classes_and_byte_orders, setup,
			teardown),
		cmocka_unit_test_setup_teardown(
			test_image__mask_across_chunks, setup, teardown),
		cmocka_unit_test(test_image__files_from_maps),
		cmocka_unit_test_setup_teardown(
			test_image__scan_a_running_program, setup, teardown),
	};

	return cmocka_run_group_tests_name("image", tests, NULL, NULL);
}
