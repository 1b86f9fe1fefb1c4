#!/bin/sh
# Installs olla from a GitHub release: picks the archive for this OS and CPU, checks it against the
# release's SHA256SUMS, and unpacks it into its own folder. Nothing is installed unless the checksum
# matches and the binary runs; an existing config/config.local.yaml is never touched.
#
#   curl -fsSL https://github.com/olla-dev/olla/releases/latest/download/install.sh | sh
#   sh install.sh [--prefix DIR] [--version X.Y.Z]
#
# Environment (the options win):
#   OLLA_PREFIX       where to install (default: $HOME/.olla)
#   OLLA_VERSION      release to install, e.g. 0.2.0 (default: the latest)
#   OLLA_RELEASE_URL  releases base URL, for mirrors (default: https://github.com/olla-dev/olla/releases);
#                     files are fetched from <url>/download/v<version>/ or <url>/latest/download/
set -eu

release_url="${OLLA_RELEASE_URL:-https://github.com/olla-dev/olla/releases}"
prefix="${OLLA_PREFIX:-${HOME:-}/.olla}"
version="${OLLA_VERSION:-latest}"

say() { printf '%s\n' "$*"; }
die() {
	printf 'install.sh: %s\n' "$*" >&2
	exit 1
}

usage() {
	say "usage: install.sh [--prefix DIR] [--version X.Y.Z]"
	say "installs olla into DIR (default \$HOME/.olla); see the comments at the top of this script"
}

while [ $# -gt 0 ]; do
	case "$1" in
	--prefix | --version)
		[ $# -ge 2 ] || die "$1 needs a value"
		if [ "$1" = --prefix ]; then prefix="$2"; else version="$2"; fi
		shift 2
		;;
	--prefix=*) prefix="${1#--prefix=}" && shift ;;
	--version=*) version="${1#--version=}" && shift ;;
	-h | --help) usage && exit 0 ;;
	*) die "unknown option: $1 (try --help)" ;;
	esac
done
[ -n "$prefix" ] || die "no install folder: set --prefix or HOME"

# Which release archive fits this machine. Bun (and so olla) has no 32-bit builds.
detect_target() {
	os=$(uname -s)
	arch=$(uname -m)
	case "$os" in
	Linux) os=linux ;;
	Darwin) os=darwin ;;
	MINGW* | MSYS* | CYGWIN* | Windows_NT)
		die "on Windows, download the .zip from $release_url and unpack it (install.sh is for Linux and macOS)"
		;;
	*) die "$os is not supported (olla has binaries for Linux, macOS and Windows)" ;;
	esac
	case "$arch" in
	x86_64 | amd64) arch=x64 ;;
	aarch64 | arm64) arch=arm64 ;;
	armv7* | armv6* | armhf | arm)
		die "$arch (32-bit ARM) is not supported: olla needs a 64-bit OS (aarch64). On a Raspberry Pi 3, 4 or 5, install the 64-bit Raspberry Pi OS."
		;;
	i386 | i486 | i586 | i686 | x86)
		die "$arch (32-bit x86) is not supported: olla needs a 64-bit OS (x86_64)."
		;;
	*) die "CPU architecture $arch is not supported (olla runs on x86_64 and aarch64)" ;;
	esac
	# An x64 shell under Rosetta on an Apple Silicon Mac: the native build is the better fit.
	if [ "$os" = darwin ] && [ "$arch" = x64 ] && [ "$(sysctl -n sysctl.proc_translated 2>/dev/null || true)" = 1 ]; then
		arch=arm64
	fi
	libc=""
	if [ "$os" = linux ]; then
		if ldd --version 2>&1 | grep -qi musl; then
			libc=-musl
		else
			for loader in /lib/ld-musl-*; do
				[ -e "$loader" ] && libc=-musl
			done
		fi
	fi
	say "$os-$arch$libc"
}

download() { # url file
	if command -v curl >/dev/null 2>&1; then
		curl --fail --silent --show-error --location --retry 2 --output "$2" "$1"
	elif command -v wget >/dev/null 2>&1; then
		wget --quiet --output-document="$2" "$1"
	else
		die "needs curl or wget to download"
	fi
}

sha256_of() {
	if command -v sha256sum >/dev/null 2>&1; then
		sha256sum "$1" | cut -d' ' -f1
	elif command -v shasum >/dev/null 2>&1; then
		shasum -a 256 "$1" | cut -d' ' -f1
	elif command -v openssl >/dev/null 2>&1; then
		openssl dgst -sha256 "$1" | sed 's/^.*= *//'
	else
		die "needs sha256sum, shasum or openssl to verify the download"
	fi
}

target=$(detect_target)
case "$version" in
latest) base="$release_url/latest/download" ;;
*)
	version="${version#v}"
	base="$release_url/download/v$version"
	;;
esac

tmp=$(mktemp -d 2>/dev/null || mktemp -d -t olla-install)
trap 'rm -rf "$tmp"' EXIT
trap 'exit 130' INT TERM

say "olla: looking for the $target build ($version) at $base"
download "$base/SHA256SUMS" "$tmp/SHA256SUMS" || die "could not download $base/SHA256SUMS"

# SHA256SUMS names every archive of the release; it also tells us the version behind "latest".
line=$(grep -E "  olla-[^ /]+-$target\.tar\.gz\$" "$tmp/SHA256SUMS" | head -n 1 || true)
[ -n "$line" ] || die "this release has no archive for $target (see $base/SHA256SUMS)"
expected=${line%% *}
asset=${line#*  }

say "olla: downloading $asset"
download "$base/$asset" "$tmp/$asset" || die "could not download $base/$asset"
actual=$(sha256_of "$tmp/$asset")
if [ "$actual" != "$expected" ]; then
	die "checksum mismatch for $asset (expected $expected, got $actual): nothing installed"
fi

mkdir "$tmp/unpacked"
tar -xzf "$tmp/$asset" -C "$tmp/unpacked" || die "could not unpack $asset: nothing installed"
stage="$tmp/unpacked/${asset%.tar.gz}"
[ -f "$stage/olla" ] || die "$asset does not hold olla: nothing installed"
"$stage/olla" --version >/dev/null 2>&1 || die "the downloaded olla does not run on this machine ($target): nothing installed"

# Shipped files are replaced; config.local.yaml (yours) and profiles you added are left alone.
mkdir -p "$prefix/config/profiles"
for file in config/config.yaml LICENSE README.md; do
	cp "$stage/$file" "$prefix/$file"
done
for file in "$stage"/config/profiles/*.yaml; do
	[ -e "$file" ] && cp "$file" "$prefix/config/profiles/"
done
# The binary last, via rename: a running olla keeps its old file and a half-copied binary never runs.
cp "$stage/olla" "$prefix/.olla.new"
chmod 0755 "$prefix/.olla.new"
mv -f "$prefix/.olla.new" "$prefix/olla"

say "olla: installed $("$prefix/olla" --version)"
say "  into $prefix (config/config.local.yaml there is yours: upgrades keep it)"
say "  start:  cd \"$prefix\" && ./olla     # reads config/config.local.yaml when you create it"
case ":${PATH:-}:" in
*":$prefix:"*) ;;
*) say "  PATH:   export PATH=\"$prefix:\$PATH\"" ;;
esac
