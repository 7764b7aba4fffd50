# parse-json
import json
doc = json.loads('{"a": [1, 2, {"b": null}], "c": "x\\u00e9"}')
assert doc["a"][2]["b"] is None and doc["c"] == "xé"
assert json.loads(json.dumps(doc)) == doc
