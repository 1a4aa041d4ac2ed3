#!/usr/bin/env bash
# Fill the kiln docs template with a JSON data file, the way `kiln docs generate`
# does: the style sheet and script (templates/docs/docs.css, graph.js + panel.js) are written
# into templates/docs/index.html in place of its /*KILN_DOCS_CSS*/ and
# /*KILN_DOCS_JS*/ lines, then the exact text /*KILN_DOCS_DATA*/null is replaced
# by the JSON, with every "<" written as \u003c so that text such as "</script>"
# inside the data cannot end the inline script early. With DATA_JSON `-` the
# data is left out: the page as it is before `kiln docs generate` fills it.
#
#   tests/docs/render_sample.sh [DATA_JSON] [OUT_HTML]
#   defaults: tests/docs/sample_data.json -> /tmp/kiln_docs_sample.html
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
templates="$here/../../templates/docs"
data="${1:-$here/sample_data.json}"
out="${2:-/tmp/kiln_docs_sample.html}"

python3 - "$templates" "$data" "$out" <<'PY'
import json, os, sys

templates, data_path, out_path = sys.argv[1:4]
placeholder = "/*KILN_DOCS_DATA*/null"

def read(name):
    with open(os.path.join(templates, name), encoding="utf-8") as f:
        return f.read()

template = read("index.html")
# As src/cli/docs.rs joins them: the two script parts in one function.
script = "(function () {\n" + read("graph.js") + "\n" + read("panel.js") + "})();\n"
for marker, part in (("/*KILN_DOCS_CSS*/\n", read("docs.css")), ("/*KILN_DOCS_JS*/\n", script)):
    if template.count(marker) != 1:
        sys.exit(f"render_sample: expected the line {marker.strip()} once in index.html")
    template = template.replace(marker, part, 1)
count = template.count(placeholder)
if count != 1:
    sys.exit(f"render_sample: expected the placeholder {placeholder} once in {templates}, found it {count} times")
if data_path == "-":
    with open(out_path, "w", encoding="utf-8") as f:
        f.write(template)
    print(out_path)
    sys.exit(0)

with open(data_path, encoding="utf-8") as f:
    data = json.load(f)

payload = json.dumps(data, ensure_ascii=False, separators=(",", ":"))
payload = (payload.replace("<", "\\u003c")
                  .replace("\u2028", "\\u2028")
                  .replace("\u2029", "\\u2029"))

with open(out_path, "w", encoding="utf-8") as f:
    f.write(template.replace(placeholder, payload, 1))
print(out_path)
PY
