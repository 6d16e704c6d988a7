# SPDX-License-Identifier: GPL-2.0
#
# Reads the VM's result channel (ttyS1) as it arrives and prints every KTAP
# result with its kernel and test program. Counts results; writes
# "PASS FAIL SKIP DONE" to the file named by -v counts=.
#
# Markers from scripts/vm-init:
#   @@ kernel REL | @@ insmod NAME RC [MSG] | @@ path NAME TEXT
#   @@ begin TEST | @@ end TEST RC | @@ done
# A test program fails as a whole (one extra failure) if its KTAP plan and
# its results disagree, or if it exits non-zero without reporting a failure.

BEGIN {
	pass = 0; fail = 0; skip = 0; done = 0; test = ""
}

{ sub(/\r$/, "") }

/^@@ kernel / {
	kver = $3
	printf "# kernel %s\n", kver
	fflush(); next
}

/^@@ insmod / {
	if ($4 != 0) {
		fail++
		msg = $0; sub(/^@@ insmod [^ ]+ [0-9]+ ?/, "", msg)
		printf "not ok - %s: insmod %s failed: %s\n", kver, $3, msg
	} else if (mode == "check") {
		printf "# %s: loaded %s\n", kver, $3
	}
	fflush(); next
}

/^@@ path / {
	p = $0; sub(/^@@ path [^ ]+ /, "", p)
	if (mode == "check")
		printf "# %s: %s mmap path: %s\n", kver, $3, p
	fflush(); next
}

/^@@ begin / {
	test = $3; planned = -1; ran = 0; tfail = 0
	next
}

/^@@ end / {
	if (mode == "check" && planned < 0) {
		fail++
		printf "not ok - %s %s: no KTAP plan (exit status %s)\n", kver, test, $4
	} else if (mode == "check" && ran != planned) {
		fail++
		printf "not ok - %s %s: planned %d results, got %d\n", kver, test, planned, ran
	} else if ($4 != 0 && tfail == 0) {
		fail++
		printf "not ok - %s %s: exited with status %s\n", kver, test, $4
	}
	test = ""
	fflush(); next
}

/^@@ done/ { done = 1; next }

mode != "check" { print; fflush(); next }

test != "" && /^1\.\.[0-9]+/ { planned = substr($0, 4) + 0; next }

test != "" && /^(not )?ok [0-9]+/ {
	ran++
	if ($0 ~ /^not ok/) {
		fail++; tfail++
	} else if ($0 ~ /# SKIP/) {
		skip++
	} else {
		pass++
	}
	printf "%s %s: %s\n", kver, test, $0
	fflush(); next
}

/^KTAP version/ { next }

# Diagnostics and anything else the test printed, indented under it.
{ printf "    %s\n", $0; fflush() }

END {
	printf "%d %d %d %d\n", pass, fail, skip, done > counts
}
