# parse-ini
def ini(s):
    out, sec = {}, None
    for line in s.splitlines():
        line = line.strip()
        if not line or line.startswith(";"): continue
        if line.startswith("["): sec = line[1:-1]; out[sec] = {}
        else:
            k, v = line.split("=", 1); out[sec][k.strip()] = v.strip()
    return out
assert ini("[db]\nhost = x\n; c\nport=5\n[web]\nport = 80") == {"db": {"host": "x", "port": "5"}, "web": {"port": "80"}}
