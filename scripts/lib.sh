# SPDX-License-Identifier: GPL-2.0
# Shared helpers for the tooling in scripts/. Sourced, never run.
# shellcheck shell=bash
# shellcheck disable=SC2034 # the variables are for the sourcing scripts

set -euo pipefail

MMP_TOP=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
# sbin holds chroot, depmod and debootstrap; plain su leaves it out.
PATH=$PATH:/usr/sbin:/sbin
# CI may run without HOME; fall back to the user's home from passwd.
MMP_HOME=${HOME:-$(getent passwd "$(id -u)" | cut -d: -f6 || true)}
[ -n "${MMP_CACHE:-}${XDG_CACHE_HOME:-}$MMP_HOME" ] ||
	{ echo "error: no HOME; set MMP_CACHE to a cache directory" >&2; exit 1; }
MMP_CACHE=${MMP_CACHE:-${XDG_CACHE_HOME:-$MMP_HOME/.cache}/mmap-prepare-drivers}
# Absolute: apt resolves relative Dir:: options against its own (host) dirs.
MMP_CACHE=$(realpath -m -- "$MMP_CACHE")
MMP_MIRROR=${MMP_MIRROR:-http://deb.debian.org/debian}
MMP_SECURITY_MIRROR=${MMP_SECURITY_MIRROR:-http://deb.debian.org/debian-security}
MMP_KEYRING=${MMP_KEYRING:-/usr/share/keyrings/debian-archive-keyring.gpg}
# Free space a cold run needs in the cache: chroots, headers, kernel images.
MMP_MIN_FREE_MB=${MMP_MIN_FREE_MB:-3072}

die() {
	echo "error: $*" >&2
	exit 1
}

say() {
	echo "==> $*" >&2
}

need_root() {
	[ "$(id -u)" = 0 ] || die "$1 needs root (chroot, debootstrap); run as root or with sudo"
}

# need_tool TOOL PACKAGE: fail with the package that provides a missing tool.
need_tool() {
	command -v "$1" >/dev/null 2>&1 ||
		die "missing tool '$1' (install it: apt-get install $2)"
}

# Refuse to start a download or chroot build on a nearly full disk, so the
# failure names the cause instead of surfacing as a truncated file.
need_space() {
	local dir=$1 free
	mkdir -p "$dir"
	free=$(df -Pm "$dir" | awk 'NR == 2 { print $4 }')
	[ "$free" -ge "$MMP_MIN_FREE_MB" ] ||
		die "only ${free} MiB free under $dir, need ${MMP_MIN_FREE_MB} MiB (free space or set MMP_CACHE elsewhere)"
}

# The kernel series the tooling knows, and the Debian distribution whose
# archive (and chroot) each comes from, in order of preference.
mmp_series_distros() {
	case "$1" in
	6.1) echo bookworm ;;
	6.12) echo trixie ;;
	7.2) echo "trixie sid" ;;
	7.3) echo trixie ;;
	# Not a Debian kernel: Debian's linux-source-6.12 with the series in
	# kernel-patches/ applied, built by scripts/build-kernel.
	6.12-patched) echo trixie ;;
	# Debian's linux-source-7.3 built with KASAN, lockdep, kmemleak and
	# fault injection (scripts/build-kernel).
	7.3-debug) echo trixie ;;
	*) return 1 ;;
	esac
}

MMP_ALL_SERIES="6.1 6.12 6.12-patched 7.2 7.3 7.3-debug"

# The script that puts a kernel of SERIES into $MMP_CACHE/kernels and
# prints its release: Debian's packages are fetched, patched series built.
mmp_series_fetcher() {
	case "$1" in
	*-patched | *-debug) echo build-kernel ;;
	*) echo fetch-kernel ;;
	esac
}

# Archive suites making up one distribution as this tooling sees it.
mmp_distro_suites() {
	case "$1" in
	bookworm) echo "bookworm bookworm-updates bookworm-security" ;;
	trixie) echo "trixie trixie-updates trixie-security trixie-backports" ;;
	sid) echo "sid" ;;
	*) return 1 ;;
	esac
}

# Write sources.list lines for a distribution (used on the host's private
# apt state and inside the chroot alike).
mmp_sources_list() {
	local suite uri opts=${2:-}
	for suite in $(mmp_distro_suites "$1"); do
		uri=$MMP_MIRROR
		case "$suite" in *-security) uri=$MMP_SECURITY_MIRROR ;; esac
		echo "deb ${opts:+[$opts] }$uri $suite main"
	done
}

# Private apt state per distribution under $MMP_CACHE/apt (fetch-kernel,
# build-kernel): the host's own sources and lists stay untouched.
mmp_apt_opts() {
	local d=$MMP_CACHE/apt/$1
	echo "-o Dir::Etc::SourceList=$d/sources.list -o Dir::Etc::SourceParts=$d/empty" \
		"-o Dir::State::Lists=$d/lists -o Dir::State::status=$d/status" \
		"-o Dir::Cache=$d/cache -o Dir::Etc::Preferences=$d/empty/none" \
		"-o Dir::Etc::PreferencesParts=$d/empty" \
		"-o APT::Architecture=amd64 -o APT::Architectures=amd64" \
		"-o Acquire::Languages=none -o Debug::NoLocking=1" \
		"-o APT::Sandbox::User=root"
}

# mmp_apt_update DISTRO [FORCE]: refresh DISTRO's private package lists when
# missing, older than MMP_APT_MAX_AGE minutes, or when forced after a failed
# download. Callers hold the apt-DISTRO lock.
mmp_apt_update() {
	local distro=$1 force=${2:-0} d=$MMP_CACHE/apt/$1 err
	mkdir -p "$d/lists/partial" "$d/cache/archives/partial" "$d/empty"
	touch "$d/status"
	# Replaced atomically, and only when it changes (another mirror):
	# then the lists no longer match it and are refreshed.
	mmp_sources_list "$distro" "signed-by=$MMP_KEYRING" >"$d/sources.list.new"
	if cmp -s "$d/sources.list.new" "$d/sources.list"; then
		rm -f "$d/sources.list.new"
	else
		mv "$d/sources.list.new" "$d/sources.list"
		force=1
	fi
	if [ "$force" = 0 ] && [ -f "$d/updated" ] &&
		[ -z "$(find "$d/updated" -mmin +"${MMP_APT_MAX_AGE:-360}")" ]; then
		return 0
	fi
	say "refreshing Debian package lists for $distro"
	# shellcheck disable=SC2046
	if ! err=$(apt-get $(mmp_apt_opts "$distro") -q --error-on=any update 2>&1); then
		die "cannot read the Debian archive at $MMP_MIRROR for $distro: $(echo "$err" | grep -Em1 '^(E|W):' | cut -c1-160)"
	fi
	touch "$d/updated"
}

# mmp_pkg_version DISTRO PKG: the candidate version of PKG, empty if none.
mmp_pkg_version() {
	# shellcheck disable=SC2046
	apt-cache $(mmp_apt_opts "$1") show --no-all-versions "$2" 2>/dev/null |
		sed -n 's/^Version: //p' | head -n 1
}

# mmp_apt_download DISTRO DIR PKG=VERSION...: the .deb files into DIR.
mmp_apt_download() {
	local distro=$1 dest=$2
	shift 2
	# shellcheck disable=SC2046
	(cd "$dest" && apt-get $(mmp_apt_opts "$distro") -q download "$@") >/dev/null
}

# with_lock NAME CMD...: serialise cache updates between concurrent runs.
with_lock() {
	local name=$1
	shift
	mkdir -p "$MMP_CACHE/locks"
	(
		flock 9
		"$@"
	) 9>"$MMP_CACHE/locks/$name.lock"
}

# mmp_in_chroot ROOT CMD...: run CMD inside ROOT with /proc mounted (kbuild's
# objtool needs it) in a private mount namespace, so no mount outlives the
# command, even on interrupt.
mmp_in_chroot() {
	local r=$1
	shift
	# shellcheck disable=SC2016 # expanded by the inner sh
	unshare --mount --propagation private \
		sh -c 'mount -t proc proc "$0/proc" && exec chroot "$0" "$@"' "$r" \
		env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin HOME=/root LC_ALL=C.UTF-8 \
		DEBIAN_FRONTEND=noninteractive "$@"
}

# mmp_kernel_signs ROOT KVER: whether kernel KVER, whose build tree is in
# chroot ROOT, checks module signatures (then DKMS signs what it builds).
# Read in the chroot: Debian's build link is absolute.
mmp_kernel_signs() {
	mmp_in_chroot "$1" grep -q '^CONFIG_MODULE_SIG_HASH=' "/lib/modules/$2/build/.config"
}

# mmp_cat_module FILE: a kernel module's contents on stdout, decompressed
# whether the file is .ko, .ko.xz, .ko.zst or .ko.gz.
mmp_cat_module() {
	case "$1" in
	*.xz) xz -dc "$1" ;;
	*.zst) zstd -qdc "$1" ;;
	*.gz) gzip -dc "$1" ;;
	*) cat "$1" ;;
	esac
}

# mmp_expand_series SERIES...: the series named, "all" expanded, one per
# line; dies on an unknown one (callers: series=$(...) || exit).
mmp_expand_series() {
	local s
	for s in "$@"; do
		if [ "$s" = all ]; then
			tr ' ' '\n' <<<"$MMP_ALL_SERIES"
		else
			mmp_series_distros "$s" >/dev/null ||
				die "unknown kernel series '$s' (known: $MMP_ALL_SERIES, all)"
			echo "$s"
		fi
	done
}

# Read KEY from a key=value file.
info_get() {
	sed -n "s/^$2=//p" "$1" | head -n 1
}
