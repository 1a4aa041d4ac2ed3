#!/usr/bin/env bash
# Build kiln's Linux wheel here with maturin, install it into a fresh virtualenv
# and check that what pip installed works:
#
#   1. maturin (installed into a build venv of its own) builds the wheel;
#   2. the wheel holds the `kiln` binary and its .dist-info metadata, nothing else;
#   3. pip installs it into a second, fresh venv; `kiln` is in the venv's bin/
#      (so on PATH once the venv is active) and `kiln --version` runs;
#   4. that kiln builds a copy of example_project/ (`kiln build`, exit 0).
#
# Usage: packaging/test.sh
#
# Environment:
#   CARGO_TARGET_DIR    default $HOME/.cache/kiln-target (see below)
#   KILN_WHEEL_PROFILE  cargo profile of the build, default `dev`; `release` is
#                       what the release workflow ships (compiles DuckDB anew)
#   KILN_WHEEL_COMPAT   maturin's --compatibility; default none: maturin's audit
#                       picks the lowest manylinux tag that fits (see below)
#   PYTHON              the interpreter the venvs are made from, default python3
#   KILN_KEEP_TMP=1     keep the temporary directory (wheel, venvs, project copy)
set -euo pipefail

start=$(date +%s)
repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$repo"

# Build time. The bundled DuckDB C++ takes about half an hour to compile from
# scratch on two cores. The repository's dev profile already optimises every
# dependency (Cargo.toml, [profile.dev.package."*"]), and `cargo run`,
# `cargo test` and CI keep that build in ~/.cache/kiln-target. Building the
# wheel in the same profile and the same target directory reuses it: DuckDB is
# not compiled again, only kiln (maturin passes `-C strip=symbols` to that crate
# alone) and, the first time, a score of Rust crates whose features differ
# between `cargo test` and a plain build (about 3 minutes; seconds after).
# `KILN_WHEEL_PROFILE=release` builds what the release workflow builds, at the
# price of compiling DuckDB once more, in $CARGO_TARGET_DIR/release.
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/kiln-target}"
profile="${KILN_WHEEL_PROFILE:-dev}"

# The platform tag. By default maturin audits the binary as auditwheel does and
# tags the wheel with the lowest manylinux_2_X that its glibc symbol versions
# and shared libraries allow. That passes here: kiln links only libstdc++,
# libgcc_s, libm and libc, all on the manylinux list, so no --compatibility
# linux or --skip-auditwheel is needed. Built on this machine the tag follows
# its glibc (on this Debian 12, glibc 2.36: manylinux_2_35), so this wheel installs here and on
# newer systems; the release workflow builds in manylinux2014 containers for
# manylinux_2_17. KILN_WHEEL_COMPAT=linux tags it plainly `linux` and skips the
# audit (for a machine whose libraries the audit rejects);
# KILN_WHEEL_COMPAT=manylinux_2_17 (say) demands a tag and fails without it.
compat="${KILN_WHEEL_COMPAT:-}"

python="${PYTHON:-python3}"

work="$(mktemp -d "${TMPDIR:-/tmp}/kiln-wheel-test.XXXXXX")"
cleanup() {
  if [ "${KILN_KEEP_TMP:-0}" = 1 ]; then
    echo "kept $work"
  else
    rm -rf "$work"
  fi
}
trap cleanup EXIT

step() { printf '\n==> %s\n' "$*"; }
fail() { printf 'FAIL: %s\n' "$*" >&2; exit 1; }

version="$(sed -n 's/^version *= *"\(.*\)"/\1/p' Cargo.toml | head -1)"
[ -n "$version" ] || fail "no version in Cargo.toml"

# 1. maturin, in a venv of its own, so a fresh machine needs only Python and
#    a Rust toolchain.
step "maturin into $work/build-venv"
"$python" -m venv "$work/build-venv"
"$work/build-venv/bin/python" -m pip install --quiet "maturin>=1.5,<2"
"$work/build-venv/bin/maturin" --version

step "build the wheel (profile $profile, compatibility ${compat:-maturin default}, CARGO_TARGET_DIR=$CARGO_TARGET_DIR)"
if [ "$profile" = release ]; then
  profile_args=(--release)
else
  profile_args=(--profile "$profile")
fi
compat_args=()
if [ -n "$compat" ]; then
  compat_args=(--compatibility "$compat")
fi
if [ "$compat" = linux ]; then
  compat_args+=(--skip-auditwheel)
fi
build_start=$(date +%s)
"$work/build-venv/bin/maturin" build "${profile_args[@]}" --locked \
  "${compat_args[@]}" --out "$work/wheels"
echo "wheel built in $(( $(date +%s) - build_start ))s"

shopt -s nullglob
wheels=("$work"/wheels/*.whl)
shopt -u nullglob
[ "${#wheels[@]}" -eq 1 ] || fail "expected one wheel in $work/wheels, found ${#wheels[@]}"
wheel="${wheels[0]}"
echo "wheel: $(basename "$wheel") ($(du -h "$wheel" | cut -f1))"

# 2. The contents: <dist>-<version>.data/scripts/kiln and <dist>-<version>.dist-info/*
#    (METADATA, WHEEL, RECORD, and with newer maturin an SBOM of the Rust
#    dependencies in sboms/).
step "wheel contents"
"$work/build-venv/bin/python" -m zipfile -l "$wheel" | tee "$work/contents.txt"
dist="kiln_sql-$version"
case "$(basename "$wheel")" in
  "$dist"-py3-none-*.whl) ;;
  *) fail "wheel name $(basename "$wheel") is not $dist-py3-none-<platform>.whl" ;;
esac
# `python -m zipfile -l` prints a header line, then "name  date time  size".
names="$(tail -n +2 "$work/contents.txt" | awk '{print $1}')"
echo "$names" | grep -qx "$dist.data/scripts/kiln" || fail "no $dist.data/scripts/kiln in the wheel"
for part in METADATA WHEEL RECORD; do
  echo "$names" | grep -qx "$dist.dist-info/$part" || fail "no $dist.dist-info/$part in the wheel"
done
extra="$(echo "$names" | grep -vx "$dist.data/scripts/kiln" | grep -v "^$dist\.dist-info/" || true)"
[ -z "$extra" ] || fail "the wheel holds more than the binary and its metadata:
$extra"
echo "ok: the binary and $dist.dist-info/ only"

# 3. Install into a fresh venv, from the wheel alone (--no-index: nothing from PyPI).
step "pip install into $work/venv"
"$python" -m venv "$work/venv"
"$work/venv/bin/python" -m pip install --quiet --no-index "$wheel"
[ -x "$work/venv/bin/kiln" ] || fail "pip did not install $work/venv/bin/kiln"
on_path="$(PATH="$work/venv/bin:$PATH" command -v kiln)"
[ "$on_path" = "$work/venv/bin/kiln" ] || fail "kiln on the venv's PATH is $on_path"

step "kiln --version"
reported="$("$work/venv/bin/kiln" --version)"
echo "$reported"
[ "$reported" = "kiln $version" ] || fail "kiln --version said '$reported', Cargo.toml says $version"

# 4. The example project, copied so the repository is left as it was; its
#    profile puts the DuckDB file at $KILN_EXAMPLE_DB.
step "kiln build of a copy of example_project/"
project="$work/example_project"
cp -R example_project "$project"
rm -rf "$project/target" "$project/logs" "$project/dbt_packages" "$project"/*.duckdb "$project"/*.duckdb.wal
(
  cd "$project"
  export KILN_EXAMPLE_DB="$project/shop.duckdb"
  status=0
  "$work/venv/bin/kiln" build --project-dir "$project" --profiles-dir "$project" || status=$?
  [ "$status" -eq 0 ] || fail "kiln build exited $status"
)
[ -f "$project/shop.duckdb" ] || fail "kiln build wrote no $project/shop.duckdb"
[ -f "$project/target/run_results.json" ] || fail "kiln build wrote no target/run_results.json"

step "passed in $(( $(date +%s) - start ))s: $(basename "$wheel"), $(du -h "$wheel" | cut -f1)"
