#!/usr/bin/env bash
# Fill the kiln docs template with a JSON data file, the way `kiln docs generate`
# does: the exact text /*KILN_DOCS_DATA*/null is replaced by the JSON, with every
# "<" written as \u003c so that text such as "</script>" inside the data cannot
# end the inline script early.
#
#   tests/docs/render_sample.sh [DATA_JSON] [OUT_HTML]
#   defaults: tests/docs/sample_data.json -> /tmp/kiln_docs_sample.html
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
template="$here/../../templates/docs/index.html"
data="${1:-$here/sample_data.json}"
out="${2:-/tmp/kiln_docs_sample.html}"

python3 - "$template" "$data" "$out" <<'PY'
import json, sys

template_path, data_path, out_path = sys.argv[1:4]
placeholder = "/*KILN_DOCS_DATA*/null"

with open(template_path, encoding="utf-8") as f:
    template = f.read()
count = template.count(placeholder)
if count != 1:
    sys.exit(f"render_sample: expected the placeholder {placeholder} once in {template_path}, found it {count} times")

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
