# parse-csv
import csv, io
def parse(s): return list(csv.reader(io.StringIO(s)))
rows = parse('name,age\n"Smith, J",42\nDoe,7\n')
assert rows[1] == ["Smith, J", "42"] and len(rows) == 3
