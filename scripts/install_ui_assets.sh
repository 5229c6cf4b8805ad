#!/usr/bin/env bash
# Install Solara's front-end assets locally so a Solara / Mesa SolaraViz page
# loads with no CDN access (the machine only reaches package registries).
#
# Solara's server proxies /_solara/cdn/<pkg>@<version>/<file> and looks in
# $PREFIX/share/solara/cdn/<pkg>@<version>/ first (PREFIX = the venv's
# sys.prefix); only on a miss does it go to the CDN. We `npm pack` exactly the
# packages/versions the installed solara asks for into that directory.
# (PyPI's `solara-assets` does the same, but stops at 1.58.2 and ships as a
# 55 MB sdist; `solara[assets]` does not resolve for solara 1.64.)
#
# Usage: scripts/install_ui_assets.sh [/path/to/venv/bin/python]
# Idempotent: packages already present (package.json exists) are skipped.
set -euo pipefail

PY="${1:-python}"
command -v "$PY" >/dev/null 2>&1 || { echo "install_ui_assets: no python '$PY'" >&2; exit 1; }
command -v npm >/dev/null 2>&1 || { echo "install_ui_assets: npm is required (apt-get install -y npm)" >&2; exit 1; }

# Where solara looks for cached CDN files, and which pinned versions it requests.
read -r CDN_DIR PKGS < <("$PY" - <<'PYEOF'
import pathlib, re
import solara, solara.server.settings as s
root = pathlib.Path(solara.__file__).parent
text = "\n".join(p.read_text(errors="ignore") for p in root.rglob("*")
                 if p.suffix in {".py", ".vue", ".j2", ".html", ".js"} and p.is_file())
# what a Solara / SolaraViz page requests (vue-grid-layout: SolaraViz's draggable grid).
# Not @widgetti/solara-vuetify3-app (74 MB): only used with ipyvue>=3, which we pin out.
wanted = ["@widgetti/solara-vuetify-app", "requirejs", "font-awesome", "@widgetti/vue-grid-layout"]
pkgs = []
for name in wanted:
    vers = sorted(set(re.findall(re.escape(name) + r"@(\d+\.\d+\.\d+[\w.\-]*?)(?=[/\"'\s])", text)))
    pkgs += [f"{name}@{v}" for v in vers]
print(s.assets.proxy_cache_dir, ",".join(pkgs))
PYEOF
)
[ -n "$PKGS" ] || { echo "install_ui_assets: found no pinned asset versions in solara" >&2; exit 1; }
mkdir -p "$CDN_DIR"
echo "install_ui_assets: cdn dir $CDN_DIR"

TMP="$(mktemp -d)"; trap 'rm -rf "$TMP"' EXIT
IFS=',' read -r -a LIST <<<"$PKGS"
for spec in "${LIST[@]}"; do
  target="$CDN_DIR/$spec"
  if [ -f "$target/package.json" ]; then echo "  have $spec"; continue; fi
  echo "  npm pack $spec"
  work="$TMP/$(echo "$spec" | tr '/@' '__')"; mkdir -p "$work"
  tgz="$(cd "$work" && npm pack --silent --no-fund --no-audit "$spec" 2>/dev/null | tail -n1)"
  [ -f "$work/$tgz" ] || { echo "install_ui_assets: npm pack $spec failed" >&2; exit 1; }
  tar xzf "$work/$tgz" -C "$work"
  rm -rf "$target"; mkdir -p "$(dirname "$target")"
  mv "$work/package" "$target"
done

# Sanity: the two files every page needs must now be served from disk.
for f in "@widgetti/solara-vuetify-app@*/dist/solara-vuetify-app8.min.js" "requirejs@*/require.js"; do
  compgen -G "$CDN_DIR/$f" >/dev/null || { echo "install_ui_assets: missing $CDN_DIR/$f" >&2; exit 1; }
done
echo "install_ui_assets: ok ($(du -sh "$CDN_DIR" | cut -f1))"
