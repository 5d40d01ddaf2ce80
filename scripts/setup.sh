#!/usr/bin/env bash
# Installs what `make run`, `make test` and `make bench` need on Debian or
# Ubuntu, and nothing that is already there. Usage: scripts/setup.sh run|cli|test|bench
set -euo pipefail

what=${1:-test}
# Build dependencies for every mode: tss-esapi links the system's tpm2-tss,
# the yubikey crate the system's PC/SC library.
packages=(libtss2-dev libpcsclite-dev pkg-config)
# The desktop app (Tauri 2 on WebKitGTK, with a tray icon and a global shortcut).
desktop=(libwebkit2gtk-4.1-dev libayatana-appindicator3-dev librsvg2-dev libxdo-dev libssl-dev)
case "$what" in
  cli)   ;;
  run)   packages+=("${desktop[@]}") ;;
  test)  packages+=("${desktop[@]}"
                   xvfb webkit2gtk-driver xclip xdotool imagemagick  # the desktop end-to-end test: a real window under Xvfb
                   xterm x11-xkb-utils                  # the auto-type test: a real X client that records what is typed; setxkbmap
                   oathtool argon2 keepassxc   # peers the tests compare against (keepassxc-cli reads our KDBX)
                   dbus gnome-keyring libsecret-tools  # a real Secret Service for the keyring factor
                   swtpm swtpm-tools                   # a TPM 2.0 simulator for the TPM factor
                   pcscd vsmartcard-vpcd               # PC/SC with a virtual reader for the YubiKey factor
                   postgresql openssl                  # sync tests: private PostgreSQL clusters; a TLS certificate
                   firefox-esr webext-keepassxc-browser # the browser test: Firefox ESR with the KeePassXC-Browser extension
                   python3 python3-venv                 # plays a process of another user; the MCP test's official Python client
                   openssh-client openssh-server tmux git # the SSH agent against ssh-add, ssh-keygen, sshd, git; a terminal to answer in
                   poppler-utils) ;;                   # pdftotext, pdftoppm: read back the emergency kit's PDF
  bench) packages+=("${desktop[@]}" xvfb xdotool xclip xterm
                   argon2 keepassxc time       # peers the benchmarks run side by side; GNU time
                   dbus gnome-keyring libsecret-tools swtpm swtpm-tools pcscd vsmartcard-vpcd # the factors' services
                   postgresql                          # the sync server's load run on PostgreSQL
                   openssh-client) ;;                  # OpenSSH's ssh-agent, next to Tessera's
  *) echo "usage: $0 run|cli|test|bench" >&2; exit 2 ;;
esac

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  sudo=""
  [ "$(id -u)" -eq 0 ] || sudo="sudo"
  echo "Installing ${missing[*]}…" >&2
  $sudo apt-get update -qq
  install() { DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "$@" >/dev/null; }
  if ! install "${missing[@]}"; then
    # Some images ship runtime libraries newer than the mirror's matching
    # -dev packages ("held broken packages"); align them with the -dev
    # candidates and retry.
    pins=()
    for pair in libcurl4:libcurl4-openssl-dev libpcre2-8-0:libpcre2-dev libpcre2-16-0:libpcre2-dev \
                libpcre2-32-0:libpcre2-dev libpcre2-posix3:libpcre2-dev; do
      runtime=${pair%%:*} dev=${pair##*:}
      version=$(apt-cache policy "$dev" | awk '/Candidate:/ {print $2}')
      [ -n "$version" ] && [ "$version" != "(none)" ] && pins+=("$runtime=$version" "$dev=$version")
    done
    echo "Retrying with ${pins[*]}…" >&2
    install --allow-downgrades "${pins[@]}" "${missing[@]}"
  fi
fi

if ! command -v cargo >/dev/null; then
  echo "Rust is not installed: see https://rustup.rs (Rust 1.85 or newer)" >&2
  exit 1
fi
if [ "$what" = test ]; then
  for c in rustfmt clippy; do
    cargo "${c/rustfmt/fmt}" --version >/dev/null 2>&1 || rustup component add "$c"
  done
fi

# The desktop web UI (ui/) builds with Node.js 20.19 or newer and npm.
if [ "$what" != cli ]; then
  if ! command -v npm >/dev/null; then
    sudo=""
    [ "$(id -u)" -eq 0 ] || sudo="sudo"
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends nodejs npm >/dev/null
  fi
  node -e 'const [a,b]=process.versions.node.split(".").map(Number); if (a<20||(a===20&&b<19)) { console.error("Node.js "+process.versions.node+" is too old for ui/ (needs 20.19+)"); process.exit(1) }'
fi

# The MCP test drives `tessera mcp` with the official Python client (PyPI
# `mcp`, pinned in tests/mcp/requirements.txt), in a venv under the cache.
if [ "$what" = test ]; then
  venv="$HOME/.cache/tessera/mcp-venv"
  if ! cmp -s tests/mcp/requirements.txt "$venv/requirements.txt" 2>/dev/null; then
    echo "Installing the Python MCP client…" >&2
    rm -rf "$venv"
    /usr/bin/python3 -m venv "$venv"
    "$venv/bin/pip" install --quiet --disable-pip-version-check -r tests/mcp/requirements.txt
    cp tests/mcp/requirements.txt "$venv/requirements.txt"
  fi
fi

# The end-to-end test drives the app through tauri-driver (W3C WebDriver in
# front of Debian's WebKitWebDriver).
if [ "$what" = test ] && ! command -v tauri-driver >/dev/null && [ ! -x "$HOME/.cargo/bin/tauri-driver" ]; then
  echo "Installing tauri-driver…" >&2
  cargo install tauri-driver --locked --quiet
fi
