# Sourced by test/tools/deps/setup.sh: puts a Go >= 1.26 on PATH for the Go app (aws-cdk-go 2.276.0 and jsii-runtime-go
# 1.142.0 ask for it). Debian 12's golang-go is 1.19, too old to switch toolchains by itself, so it fetches
# Go's toolchain module from the Go module proxy into the cache, once per version.
go_is_recent() {
  command -v go >/dev/null && go env GOVERSION | awk -F'[go.]' '{ exit !($3 > 1 || ($3 == 1 && $4 >= 26)) }'
}
if ! go_is_recent; then
  echo "== setup: Go is $(command -v go >/dev/null && go env GOVERSION || echo missing): go1.26.8 from the cache, else the Go module proxy"
  command -v go >/dev/null || DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends golang-go >/dev/null
  toolchain_dir=$(GOFLAGS=-modcacherw GOMODCACHE="${CLM_CACHE_DIR:-/var/cache/cdk-lambda-multiprocessing}/go-toolchain" \
    go mod download -json "golang.org/toolchain@v0.0.1-go1.26.8.linux-$(dpkg --print-architecture)" |
    sed -n 's/^[[:space:]]*"Dir": "\(.*\)",$/\1/p')
  # Module zips keep no file modes: the programs become executable as the go command's own switch does it.
  chmod +x "$toolchain_dir"/bin/* "$toolchain_dir"/pkg/tool/*/*
  export PATH="$toolchain_dir/bin:$PATH"
  go_is_recent || { echo "== setup: no Go >= 1.26 (got $(go env GOVERSION))" >&2; exit 1; }
fi
echo "== setup: $(go version)"
