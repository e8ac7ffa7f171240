/*
 * image.c - see image.h.
 *
 * What the digest hashes, in this order, every number as 8 little-endian
 * bytes (so the digest does not depend on the host):
 *   - the ELF header's class, byte order, OS ABI, type, machine, entry
 *     point and flags;
 *   - each program header's type, flags, virtual address, file and memory
 *     size and alignment: the segments the loader maps and where (not their
 *     file offsets, nor the physical addresses nobody reads);
 *   - each section the loader maps (SHF_ALLOC), in section-header order: its
 *     name, type, flags, address, size, alignment and entry size, then
 *       SHT_NOBITS (.bss, .tbss): nothing more, its size is its contents;
 *       SHT_NOTE: each note's name, type and sizes, and its descriptor -
 *         except a GNU build id's (NT_GNU_BUILD_ID), which is a hash of the
 *         linker's whole output, debug information and paths included;
 *       any other: its bytes (code, read-only data, data, relocations,
 *         dynamic symbols), with the commit's sha masked (below);
 *   - where the mask applied: section index, offset and length of each run.
 * Not hashed: every section the loader does not map (.symtab, .strtab,
 * .comment, .debug_*, .gnu_debuglink, build attributes), the file offsets
 * of anything, the number of sections and their headers' links.  So two
 * builds of one program compare equal whether they were linked with other
 * build ids, with or without -g, stripped or not, in directories of the
 * same length.
 *
 * The mask.  perfbisect checks each commit out at
 * STATE/worktrees/<benchmark id>-<sha> (orchestrator/local.c,
 * worktree_path()): a commit's tree and its parent's differ in the sha
 * only, and their paths have the same length.  A build that records its
 * own path - assert() and __FILE__ under absolute source paths (CMake
 * passes them), an rpath into the build tree, a DW_AT_comp_dir that ended
 * up in .rodata - or its commit (a version string from PERFBISECT_COMMIT)
 * therefore differs from its parent's in exactly the bytes of the two
 * shas.  Every occurrence of the first 7 to 40 characters of the commit's
 * sha is hashed as that many zeros, and where it was is hashed too, so a
 * parent that had zeros (or anything else) there is still told apart.
 *
 * What still makes two builds of one program differ here (no claim: the
 * safe side): __DATE__ and __TIME__ or any other time stamp compiled in;
 * `git describe` strings (their commit count differs); paths of another
 * length; a build id of another size (md5 against sha1 moves every later
 * section); anything random in code generation.
 *
 * What this cannot see, so that equal digests are strong evidence and not
 * proof: files the benchmark reads without mapping them (input data, a
 * script the run command interprets), and the run command itself.  The
 * engine weighs the claim accordingly (bayes.c, IDENTICAL_PRIOR).
 *
 * The file is read with pread() and bounds-checked against its size before
 * every read, never mapped, so a truncated file (or one that shrinks while
 * it is read) is an error, not a SIGBUS.
 */
#define _GNU_SOURCE
#include <elf.h>
#include <endian.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <openssl/evp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "agent/image.h"
#include "agent/numa.h"
#include "common/err.h"
#include "common/util.h"

#define CHUNK (256 * 1024)       /* section bytes hashed per read */
#define MASK_MIN 7               /* git's shortest abbreviation */
#define MASK_MAX 40
#define MAX_SECTIONS 65536       /* more: refused (no claim) */
#define MAX_NOTES (1 << 20)      /* bytes of one note section */
#define MAX_NAMES (16 << 20)     /* bytes of the section-name table */
#define MAX_FILE (4ULL << 30)    /* bytes of a file: larger, no digest */

/* ---- the set of mapped files ------------------------------------------ */

void pb_image_files_init(struct pb_image_files *f)
{
	memset(f, 0, sizeof(*f));
}

void pb_image_files_release(struct pb_image_files *f)
{
	if (!f)
		return;
	for (size_t i = 0; i < f->n; i++)
		free(f->path[i]);
	free(f->path);
	memset(f, 0, sizeof(*f));
}

/* Where rel is, or goes: 1 when it is there. */
static int files_find(const struct pb_image_files *f, const char *rel,
		      size_t *at)
{
	size_t lo = 0, hi = f->n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int c = strcmp(f->path[mid], rel);

		if (c == 0) {
			*at = mid;
			return 1;
		}
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	*at = lo;
	return 0;
}

int pb_image_files_add(struct pb_image_files *f, const char *rel)
{
	size_t at;
	char *copy;

	if (files_find(f, rel, &at))
		return PB_OK;
	if (f->n >= PB_IMAGE_MAX_FILES) {
		f->truncated = 1;
		return PB_OK;
	}
	if (f->n == f->alloc) {
		size_t na = f->alloc ? 2 * f->alloc : 8;
		char **np = realloc(f->path, na * sizeof(*np));

		if (!np)
			return pb_error_set("out of memory");
		f->path = np;
		f->alloc = na;
	}
	copy = pb_strdup(rel);
	if (!copy)
		return PB_ERROR;
	memmove(f->path + at + 1, f->path + at, (f->n - at) * sizeof(*f->path));
	f->path[at] = copy;
	f->n++;
	return PB_OK;
}

/* Is path under root (root + '/' + at least one character)? */
static int under(const char *path, const char *root, size_t rl)
{
	return strncmp(path, root, rl) == 0 && path[rl] == '/' && path[rl + 1];
}

int pb_image_files_add_maps(struct pb_image_files *f, const char *root,
			    const char *exe, FILE *maps)
{
	struct pb_nm_vma *v = malloc(sizeof(*v));
	size_t rl = strlen(root), cap = 0;
	char *line = NULL;
	int rc = PB_OK, outside = exe && !under(exe, root, rl);

	if (!v)
		return pb_error_set("out of memory");
	while (rl > 1 && getline(&line, &cap, maps) >= 0) {
		if (pb_numa_vma_parse_line(v, line) < 0)
			continue;
		if (!under(v->path, root, rl))
			continue;
		if (outside && !f->foreign[0])
			pb_strlcpy(f->foreign, exe, sizeof(f->foreign));
		if (v->path_truncated) {
			f->truncated = 1;
			continue;
		}
		if ((rc = pb_image_files_add(f, v->path + rl + 1)) < 0)
			goto out;
	}
	if (ferror(maps))
		rc = pb_error_set("cannot read maps: %s", strerror(errno));
out:
	free(line);
	free(v);
	return rc;
}

int pb_image_files_scan(struct pb_image_files *f, const char *root,
			pid_t root_pid, int scope)
{
	pid_t *pids = NULL;
	size_t n = 0;
	int rc;

	rc = pb_numa_run_pids(&pids, &n, root_pid, (enum pb_numa_scope)scope);
	if (rc < 0)
		return rc;
	for (size_t i = 0; i < n; i++) {
		char path[64], exe[PATH_MAX];
		ssize_t len;
		FILE *maps;

		snprintf(path, sizeof(path), "/proc/%d/exe", (int)pids[i]);
		len = readlink(path, exe, sizeof(exe) - 1);
		if (len <= 0)
			continue; /* gone, or a kernel thread */
		exe[len] = '\0';
		snprintf(path, sizeof(path), "/proc/%d/maps", (int)pids[i]);
		maps = fopen(path, "re");
		if (!maps)
			continue; /* gone */
		/* a set that missed a process's mappings is incomplete */
		if (pb_image_files_add_maps(f, root, exe, maps) < 0)
			f->truncated = 1;
		fclose(maps);
	}
	free(pids);
	return PB_OK;
}

/* ---- the digest ------------------------------------------------------- */

struct elf {
	const char *path;
	int fd;
	uint64_t size;
	int is64, swap;
	unsigned char ident[EI_NIDENT];
	/* the header, in host order and 64-bit fields whatever the class */
	uint16_t type, machine, phentsize, shentsize;
	uint32_t flags;
	uint64_t entry, phoff, shoff;
	size_t phnum, shnum, shstrndx;
	Elf64_Shdr *sh;         /* shnum of them, host order */
	char *names;            /* section names, NUL-terminated; or NULL */
	size_t names_len;
	unsigned char *buf;     /* CHUNK + MASK_MAX bytes */
	const char *mask;       /* the sha, or NULL */
	EVP_MD_CTX *md;         /* the digest */
	EVP_MD_CTX *masks;      /* where the mask applied */
	int md_failed;
};

static uint16_t fix16(const struct elf *e, uint16_t v)
{
	return e->swap ? __builtin_bswap16(v) : v;
}

static uint32_t fix32(const struct elf *e, uint32_t v)
{
	return e->swap ? __builtin_bswap32(v) : v;
}

static uint64_t fix64(const struct elf *e, uint64_t v)
{
	return e->swap ? __builtin_bswap64(v) : v;
}

static void update(struct elf *e, EVP_MD_CTX *md, const void *p, size_t len)
{
	if (len && EVP_DigestUpdate(md, p, len) != 1)
		e->md_failed = 1;
}

static void put_u64(struct elf *e, EVP_MD_CTX *md, uint64_t v)
{
	unsigned char b[8];

	for (int i = 0; i < 8; i++)
		b[i] = (unsigned char)(v >> (8 * i));
	update(e, md, b, sizeof(b));
}

/* A string, with its length first so that concatenations cannot collide. */
static void put_str(struct elf *e, const char *s)
{
	size_t len = strlen(s);

	put_u64(e, e->md, len);
	update(e, e->md, s, len);
}

static int truncated(const struct elf *e, const char *what, uint64_t off,
		     uint64_t len)
{
	return pb_error_code(PB_EINVAL,
			     "'%s': truncated or malformed ELF file: %s "
			     "(%llu bytes at offset %llu) is past its end "
			     "(%llu bytes)",
			     e->path, what, (unsigned long long)len,
			     (unsigned long long)off,
			     (unsigned long long)e->size);
}

/* Reads len bytes at off, which must lie within the file. */
static int read_at(const struct elf *e, void *dst, size_t len, uint64_t off,
		   const char *what)
{
	size_t done = 0;

	if (off > e->size || len > e->size - off)
		return truncated(e, what, off, len);
	while (done < len) {
		ssize_t r = pread(e->fd, (char *)dst + done, len - done,
				  (off_t)(off + done));

		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			return pb_error_set("cannot read '%s': %s", e->path,
					    strerror(errno));
		if (r == 0)
			return pb_error_code(PB_EINVAL,
					     "'%s' became shorter while it was "
					     "read", e->path);
		done += (size_t)r;
	}
	return PB_OK;
}

/* Reads a table of count entries of entsize bytes at off into a malloc'd
 * buffer (*out; NULL for none). */
static int read_table(const struct elf *e, unsigned char **out, uint64_t off,
		      size_t count, size_t entsize, const char *what)
{
	uint64_t len = (uint64_t)count * entsize; /* both < 2^17 */

	*out = NULL;
	if (count == 0)
		return PB_OK;
	if (off > e->size || len > e->size - off)
		return truncated(e, what, off, len);
	*out = malloc(len);
	if (!*out)
		return pb_error_set("out of memory");
	return read_at(e, *out, len, off, what);
}

/* Section header i of a raw table, in host order. */
static void section_header(const struct elf *e, const unsigned char *raw,
			   size_t i, Elf64_Shdr *s)
{
	const unsigned char *p = raw + i * e->shentsize;

	if (e->is64) {
		Elf64_Shdr h;

		memcpy(&h, p, sizeof(h));
		s->sh_name = fix32(e, h.sh_name);
		s->sh_type = fix32(e, h.sh_type);
		s->sh_flags = fix64(e, h.sh_flags);
		s->sh_addr = fix64(e, h.sh_addr);
		s->sh_offset = fix64(e, h.sh_offset);
		s->sh_size = fix64(e, h.sh_size);
		s->sh_link = fix32(e, h.sh_link);
		s->sh_info = fix32(e, h.sh_info);
		s->sh_addralign = fix64(e, h.sh_addralign);
		s->sh_entsize = fix64(e, h.sh_entsize);
	} else {
		Elf32_Shdr h;

		memcpy(&h, p, sizeof(h));
		s->sh_name = fix32(e, h.sh_name);
		s->sh_type = fix32(e, h.sh_type);
		s->sh_flags = fix32(e, h.sh_flags);
		s->sh_addr = fix32(e, h.sh_addr);
		s->sh_offset = fix32(e, h.sh_offset);
		s->sh_size = fix32(e, h.sh_size);
		s->sh_link = fix32(e, h.sh_link);
		s->sh_info = fix32(e, h.sh_info);
		s->sh_addralign = fix32(e, h.sh_addralign);
		s->sh_entsize = fix32(e, h.sh_entsize);
	}
}

/* Program header i of a raw table, in host order. */
static void segment_header(const struct elf *e, const unsigned char *raw,
			   size_t i, Elf64_Phdr *s)
{
	const unsigned char *p = raw + i * e->phentsize;

	if (e->is64) {
		Elf64_Phdr h;

		memcpy(&h, p, sizeof(h));
		s->p_type = fix32(e, h.p_type);
		s->p_flags = fix32(e, h.p_flags);
		s->p_vaddr = fix64(e, h.p_vaddr);
		s->p_filesz = fix64(e, h.p_filesz);
		s->p_memsz = fix64(e, h.p_memsz);
		s->p_align = fix64(e, h.p_align);
	} else {
		Elf32_Phdr h;

		memcpy(&h, p, sizeof(h));
		s->p_type = fix32(e, h.p_type);
		s->p_flags = fix32(e, h.p_flags);
		s->p_vaddr = fix32(e, h.p_vaddr);
		s->p_filesz = fix32(e, h.p_filesz);
		s->p_memsz = fix32(e, h.p_memsz);
		s->p_align = fix32(e, h.p_align);
	}
}

/* The ELF header; 1 when the file is not ELF at all. */
static int read_header(struct elf *e)
{
	size_t shentsize_min, phentsize_min;
	int rc;

	if (e->size < SELFMAG)
		return 1;
	if ((rc = read_at(e, e->ident, SELFMAG, 0, "ELF magic")) < 0)
		return rc;
	if (memcmp(e->ident, ELFMAG, SELFMAG) != 0)
		return 1;
	if ((rc = read_at(e, e->ident, EI_NIDENT, 0, "ELF identification")) <
	    0)
		return rc;
	if (e->ident[EI_CLASS] != ELFCLASS32 && e->ident[EI_CLASS] != ELFCLASS64)
		return pb_error_code(PB_EINVAL, "'%s': unknown ELF class %u",
				     e->path, e->ident[EI_CLASS]);
	if (e->ident[EI_DATA] != ELFDATA2LSB && e->ident[EI_DATA] != ELFDATA2MSB)
		return pb_error_code(PB_EINVAL,
				     "'%s': unknown ELF byte order %u", e->path,
				     e->ident[EI_DATA]);
	if (e->ident[EI_VERSION] != EV_CURRENT)
		return pb_error_code(PB_EINVAL, "'%s': unknown ELF version %u",
				     e->path, e->ident[EI_VERSION]);
	e->is64 = e->ident[EI_CLASS] == ELFCLASS64;
	e->swap = (e->ident[EI_DATA] == ELFDATA2LSB) !=
		  (__BYTE_ORDER == __LITTLE_ENDIAN);
	if (e->is64) {
		Elf64_Ehdr h;

		if ((rc = read_at(e, &h, sizeof(h), 0, "ELF header")) < 0)
			return rc;
		e->type = fix16(e, h.e_type);
		e->machine = fix16(e, h.e_machine);
		e->entry = fix64(e, h.e_entry);
		e->phoff = fix64(e, h.e_phoff);
		e->shoff = fix64(e, h.e_shoff);
		e->flags = fix32(e, h.e_flags);
		e->phentsize = fix16(e, h.e_phentsize);
		e->phnum = fix16(e, h.e_phnum);
		e->shentsize = fix16(e, h.e_shentsize);
		e->shnum = fix16(e, h.e_shnum);
		e->shstrndx = fix16(e, h.e_shstrndx);
		shentsize_min = sizeof(Elf64_Shdr);
		phentsize_min = sizeof(Elf64_Phdr);
	} else {
		Elf32_Ehdr h;

		if ((rc = read_at(e, &h, sizeof(h), 0, "ELF header")) < 0)
			return rc;
		e->type = fix16(e, h.e_type);
		e->machine = fix16(e, h.e_machine);
		e->entry = fix32(e, h.e_entry);
		e->phoff = fix32(e, h.e_phoff);
		e->shoff = fix32(e, h.e_shoff);
		e->flags = fix32(e, h.e_flags);
		e->phentsize = fix16(e, h.e_phentsize);
		e->phnum = fix16(e, h.e_phnum);
		e->shentsize = fix16(e, h.e_shentsize);
		e->shnum = fix16(e, h.e_shnum);
		e->shstrndx = fix16(e, h.e_shstrndx);
		shentsize_min = sizeof(Elf32_Shdr);
		phentsize_min = sizeof(Elf32_Phdr);
	}
	/* Without section headers (sstrip, some packers) the sections that
	 * hold build ids cannot be found: no digest. */
	if (e->shoff == 0)
		return pb_error_code(PB_EINVAL,
				     "'%s': ELF file without section headers",
				     e->path);
	if (e->shentsize < shentsize_min ||
	    (e->phnum && e->phentsize < phentsize_min))
		return pb_error_code(PB_EINVAL,
				     "'%s': malformed ELF header (entry sizes "
				     "%u and %u)", e->path, e->shentsize,
				     e->phentsize);
	return PB_OK;
}

/* The section headers and the section names. */
static int read_sections(struct elf *e)
{
	unsigned char *raw = NULL;
	Elf64_Shdr s0;
	int rc;

	/* Extended numbering: with 0xff00 sections or more, the counts are
	 * in section header 0. */
	if (e->shnum == 0 || e->shstrndx == SHN_XINDEX || e->phnum == PN_XNUM) {
		if ((rc = read_table(e, &raw, e->shoff, 1, e->shentsize,
				     "section header 0")) < 0)
			goto out;
		section_header(e, raw, 0, &s0);
		free(raw);
		raw = NULL;
		if (e->shnum == 0)
			e->shnum = s0.sh_size > MAX_SECTIONS ? MAX_SECTIONS + 1
							     : (size_t)s0.sh_size;
		if (e->shstrndx == SHN_XINDEX)
			e->shstrndx = s0.sh_link;
		if (e->phnum == PN_XNUM)
			e->phnum = s0.sh_info;
	}
	if (e->shnum == 0 || e->shnum > MAX_SECTIONS || e->phnum > MAX_SECTIONS) {
		rc = pb_error_code(PB_EINVAL, "'%s': %zu sections and %zu "
				   "segments: not read", e->path, e->shnum,
				   e->phnum);
		goto out;
	}
	if ((rc = read_table(e, &raw, e->shoff, e->shnum, e->shentsize,
			     "the section headers")) < 0)
		goto out;
	e->sh = calloc(e->shnum, sizeof(*e->sh));
	if (!e->sh) {
		rc = pb_error_set("out of memory");
		goto out;
	}
	for (size_t i = 0; i < e->shnum; i++)
		section_header(e, raw, i, &e->sh[i]);

	if (e->shstrndx != SHN_UNDEF) {
		const Elf64_Shdr *ns;

		if (e->shstrndx >= e->shnum) {
			rc = pb_error_code(PB_EINVAL,
					   "'%s': section-name table %zu of %zu "
					   "sections", e->path, e->shstrndx,
					   e->shnum);
			goto out;
		}
		ns = &e->sh[e->shstrndx];
		if (ns->sh_type != SHT_STRTAB || ns->sh_size > MAX_NAMES) {
			rc = pb_error_code(PB_EINVAL, "'%s': malformed "
					   "section-name table", e->path);
			goto out;
		}
		e->names_len = (size_t)ns->sh_size;
		e->names = malloc(e->names_len + 1);
		if (!e->names) {
			rc = pb_error_set("out of memory");
			goto out;
		}
		if ((rc = read_at(e, e->names, e->names_len, ns->sh_offset,
				  "the section-name table")) < 0)
			goto out;
		e->names[e->names_len] = '\0';
	}
	rc = PB_OK;
out:
	free(raw);
	return rc;
}

static const char *section_name(const struct elf *e, const Elf64_Shdr *s)
{
	return e->names && s->sh_name < e->names_len ? e->names + s->sh_name
						      : "";
}

/* Zeroes every run of the mask's first MASK_MIN..MASK_MAX characters that
 * starts in buf[0 .. final) (it may reach to buf[avail - 1]) and hashes
 * where it was; base is buf[0]'s offset in section idx. */
static void apply_mask(struct elf *e, size_t idx, uint64_t base,
		       unsigned char *buf, size_t final, size_t avail)
{
	size_t i = 0;

	while (i < final) {
		unsigned char *hit = memmem(buf + i, avail - i, e->mask,
					    MASK_MIN);
		size_t at, len = MASK_MIN;

		if (!hit)
			return;
		at = (size_t)(hit - buf);
		if (at >= final)
			return;
		while (len < MASK_MAX && at + len < avail &&
		       buf[at + len] == (unsigned char)e->mask[len])
			len++;
		memset(buf + at, 0, len);
		put_u64(e, e->masks, idx);
		put_u64(e, e->masks, base + at);
		put_u64(e, e->masks, len);
		i = at + len;
	}
}

/* Hashes size bytes at off, section idx, masked. */
static int hash_bytes(struct elf *e, size_t idx, uint64_t off, uint64_t size)
{
	uint64_t pos = 0, hashed = 0;
	size_t keep = 0;
	int rc;

	if (off > e->size || size > e->size - off)
		return truncated(e, section_name(e, &e->sh[idx]), off, size);
	while (pos < size) {
		size_t want = size - pos > CHUNK ? CHUNK : (size_t)(size - pos);
		size_t avail, final;

		if ((rc = read_at(e, e->buf + keep, want, off + pos,
				  section_name(e, &e->sh[idx]))) < 0)
			return rc;
		pos += want;
		avail = keep + want;
		/* a run starting here may go on in the next chunk: hold back
		 * what it could reach, unless this is the last chunk */
		final = pos < size ? avail - (MASK_MAX - 1) : avail;
		if (e->mask)
			apply_mask(e, idx, hashed, e->buf, final, avail);
		update(e, e->md, e->buf, final);
		hashed += final;
		keep = avail - final;
		memmove(e->buf, e->buf + final, keep);
	}
	return PB_OK;
}

/* Hashes a note section: every note, a GNU build id's descriptor left
 * out.  Notes that do not parse are hashed as they are. */
static int hash_notes(struct elf *e, size_t idx)
{
	const Elf64_Shdr *s = &e->sh[idx];
	uint64_t align = s->sh_addralign == 8 ? 8 : 4, off = 0, size;
	unsigned char *p;
	int rc;

	if (s->sh_size > MAX_NOTES)
		return pb_error_code(PB_EINVAL, "'%s': note section '%s' of "
				     "%llu bytes: not read", e->path,
				     section_name(e, s),
				     (unsigned long long)s->sh_size);
	size = s->sh_size;
	p = malloc(size ? size : 1);
	if (!p)
		return pb_error_set("out of memory");
	if ((rc = read_at(e, p, size, s->sh_offset, section_name(e, s))) < 0)
		goto out;
	while (size - off >= 12) {
		uint32_t w[3];
		uint64_t name_end, desc_end;
		int build_id;

		memcpy(w, p + off, sizeof(w));
		w[0] = fix32(e, w[0]); /* namesz */
		w[1] = fix32(e, w[1]); /* descsz */
		w[2] = fix32(e, w[2]); /* type */
		name_end = off + 12 + ((w[0] + align - 1) & ~(align - 1));
		desc_end = name_end + ((w[1] + align - 1) & ~(align - 1));
		if (name_end > size || desc_end > size)
			break;
		put_u64(e, e->md, w[0]);
		put_u64(e, e->md, w[1]);
		put_u64(e, e->md, w[2]);
		update(e, e->md, p + off + 12, w[0]);
		build_id = w[2] == NT_GNU_BUILD_ID && w[0] == 4 &&
			   memcmp(p + off + 12, "GNU", 4) == 0;
		if (!build_id)
			update(e, e->md, p + name_end, w[1]);
		off = desc_end;
	}
	put_u64(e, e->md, size - off); /* what did not parse, as it is */
	update(e, e->md, p + off, (size_t)(size - off));
	rc = PB_OK;
out:
	free(p);
	return rc;
}

static int hash_image(struct elf *e)
{
	unsigned char *raw = NULL;
	int rc;

	put_u64(e, e->md, e->ident[EI_CLASS]);
	put_u64(e, e->md, e->ident[EI_DATA]);
	put_u64(e, e->md, e->ident[EI_OSABI]);
	put_u64(e, e->md, e->ident[EI_ABIVERSION]);
	put_u64(e, e->md, e->type);
	put_u64(e, e->md, e->machine);
	put_u64(e, e->md, e->entry);
	put_u64(e, e->md, e->flags);

	put_u64(e, e->md, e->phnum);
	if ((rc = read_table(e, &raw, e->phoff, e->phnum, e->phentsize,
			     "the program headers")) < 0)
		goto out;
	for (size_t i = 0; i < e->phnum; i++) {
		Elf64_Phdr ph;

		segment_header(e, raw, i, &ph);
		put_u64(e, e->md, ph.p_type);
		put_u64(e, e->md, ph.p_flags);
		put_u64(e, e->md, ph.p_vaddr);
		put_u64(e, e->md, ph.p_filesz);
		put_u64(e, e->md, ph.p_memsz);
		put_u64(e, e->md, ph.p_align);
	}

	for (size_t i = 0; i < e->shnum; i++) {
		const Elf64_Shdr *s = &e->sh[i];

		if (!(s->sh_flags & SHF_ALLOC))
			continue;
		put_str(e, section_name(e, s));
		put_u64(e, e->md, s->sh_type);
		put_u64(e, e->md, s->sh_flags);
		put_u64(e, e->md, s->sh_addr);
		put_u64(e, e->md, s->sh_size);
		put_u64(e, e->md, s->sh_addralign);
		put_u64(e, e->md, s->sh_entsize);
		if (s->sh_type == SHT_NOBITS)
			continue;
		if (s->sh_type == SHT_NOTE)
			rc = hash_notes(e, i);
		else
			rc = hash_bytes(e, i, s->sh_offset, s->sh_size);
		if (rc < 0)
			goto out;
	}
	rc = PB_OK;
out:
	free(raw);
	return rc;
}

int pb_image_digest(struct pb_image_digest *out, const char *path,
		    const char *mask)
{
	unsigned char md[EVP_MAX_MD_SIZE], mk[EVP_MAX_MD_SIZE];
	unsigned int mdlen = 0, mklen = 0;
	struct elf e;
	struct stat st;
	int rc;

	memset(out, 0, sizeof(*out));
	memset(&e, 0, sizeof(e));
	e.path = path;
	e.mask = mask && strlen(mask) >= MASK_MAX ? mask : NULL;
	/* The work tree belongs to the unprivileged run user, who may swap a
	 * mapped file for a symlink, a FIFO or a huge sparse file before it
	 * is read (perhaps by root): the kernel printed the mapping's real
	 * path, so a symlink there now is no claim, and neither is anything
	 * but a regular file of a sane size. */
	e.fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK |
				  O_NOFOLLOW);
	if (e.fd < 0)
		return pb_error_code(errno == ENOENT ? PB_ENOTFOUND : PB_ERROR,
				     "cannot open '%s': %s", path,
				     strerror(errno));
	if (fstat(e.fd, &st) < 0) {
		rc = pb_error_set("cannot stat '%s': %s", path, strerror(errno));
		goto out;
	}
	if (!S_ISREG(st.st_mode)) {
		rc = pb_error_code(PB_EINVAL, "'%s' is not a regular file",
				   path);
		goto out;
	}
	if ((uint64_t)st.st_size > MAX_FILE) {
		rc = pb_error_code(PB_EINVAL, "'%s' is too large to digest "
				   "(%lld bytes)", path,
				   (long long)st.st_size);
		goto out;
	}
	e.size = (uint64_t)st.st_size;
	if ((rc = read_header(&e)) != PB_OK) {
		if (rc == 1)
			rc = PB_OK; /* not ELF: out->elf stays 0 */
		goto out;
	}
	if ((rc = read_sections(&e)) < 0)
		goto out;
	e.buf = malloc(CHUNK + MASK_MAX);
	e.md = EVP_MD_CTX_new();
	e.masks = EVP_MD_CTX_new();
	if (!e.buf || !e.md || !e.masks) {
		rc = pb_error_set("out of memory");
		goto out;
	}
	if (EVP_DigestInit_ex(e.md, EVP_sha256(), NULL) != 1 ||
	    EVP_DigestInit_ex(e.masks, EVP_sha256(), NULL) != 1) {
		rc = pb_error_set("cannot start SHA-256");
		goto out;
	}
	if ((rc = hash_image(&e)) < 0)
		goto out;
	if (EVP_DigestFinal_ex(e.masks, mk, &mklen) != 1)
		e.md_failed = 1;
	update(&e, e.md, mk, mklen);
	if (EVP_DigestFinal_ex(e.md, md, &mdlen) != 1 || e.md_failed) {
		rc = pb_error_set("SHA-256 of '%s' failed", path);
		goto out;
	}
	out->elf = 1;
	pb_strlcpy(out->hex, PB_IMAGE_DIGEST_PREFIX, sizeof(out->hex));
	for (unsigned i = 0; i < mdlen; i++) {
		size_t len = strlen(out->hex);

		snprintf(out->hex + len, sizeof(out->hex) - len, "%02x", md[i]);
	}
	rc = PB_OK;
out:
	EVP_MD_CTX_free(e.md);
	EVP_MD_CTX_free(e.masks);
	free(e.buf);
	free(e.sh);
	free(e.names);
	close(e.fd);
	return rc;
}
