-- 0006-identical: commits that cannot matter.
--
-- Per build (commit, benchmark, machine, as in builds): every file its runs
-- mapped from the commit's work tree, by its path relative to the tree, and
-- what it is: 'elf' with the digest of its loadable contents
-- (agent/image.h; "elf1:" and 64 hex digits), 'other' for a file that is
-- not ELF (data the benchmark mapped: outside the claim), 'error' with the
-- reason when it could not be read or parsed (its commit makes no claim).
-- The path '/' (never a relative path) stands for the set itself when a
-- run mapped more than could be kept, or an executable from outside the
-- tree (an interpreter) mapped files from it: 'error', no claim.  A commit is identical to its parent
-- when both mapped at least one ELF file, neither has an error, and their
-- ELF files have the same paths and digests.  Rebuilding a commit forgets
-- its rows.
--
-- Per step: the parent commit whose code it shares, when it is identical
-- (NULL otherwise, and always with --no-identical).

CREATE TABLE build_images (
	commit_id     INTEGER NOT NULL REFERENCES commits(id),
	benchmark_id  INTEGER NOT NULL REFERENCES benchmarks(id),
	machine       TEXT NOT NULL,
	path          TEXT NOT NULL,
	kind          TEXT NOT NULL CHECK (kind IN ('elf', 'other', 'error')),
	digest        TEXT CHECK ((kind = 'elf') = (digest IS NOT NULL)),
	note          TEXT,
	created_at    REAL NOT NULL,
	PRIMARY KEY (commit_id, benchmark_id, machine, path)
);

ALTER TABLE bisection_steps ADD COLUMN identical_to INTEGER
	REFERENCES commits(id);
