// merge-sort
fn merge_sort(v: &[i64]) -> Vec<i64> {
    if v.len() <= 1 {
        return v.to_vec();
    }
    let (a, b) = v.split_at(v.len() / 2);
    let (a, b) = (merge_sort(a), merge_sort(b));
    let mut out = Vec::with_capacity(v.len());
    let (mut i, mut j) = (0, 0);
    while i < a.len() && j < b.len() {
        if a[i] <= b[j] {
            out.push(a[i]);
            i += 1;
        } else {
            out.push(b[j]);
            j += 1;
        }
    }
    out.extend_from_slice(&a[i..]);
    out.extend_from_slice(&b[j..]);
    out
}
fn main() {
    let mut x: i64 = 12345;
    let v: Vec<i64> = (0..1000)
        .map(|_| {
            x = (x * 1103515245 + 12345) % 2147483648;
            x % 1000
        })
        .collect();
    let mut want = v.clone();
    want.sort();
    assert_eq!(merge_sort(&v), want);
}
