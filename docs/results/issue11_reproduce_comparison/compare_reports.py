import re, sys
def parse(p):
    rows, name = {}, None
    for line in open(p):
        m = re.match(r"`([\w.]+)` — ", line)
        if m: name = m.group(1); continue
        if line.startswith("| ") and not line.startswith("| quantity") and name:
            cells = [c.strip() for c in line.strip().strip("|").split(" | ")]
            if len(cells) >= 4:
                rows[(name, cells[0])] = (cells[2], cells[3])
    return rows
a, b = parse(sys.argv[1]), parse(sys.argv[2])
same = diff = 0
for k in sorted(set(a) | set(b)):
    if a.get(k) == b.get(k): same += 1
    else:
        diff += 1; print(k, "\n   before:", a.get(k), "\n   after: ", b.get(k))
print(f"{same} rows identical, {diff} differ")
