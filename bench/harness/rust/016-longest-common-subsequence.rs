// longest-common-subsequence
fn lcs(a: &str, b: &str) -> usize {
    let a = a.as_bytes();
    let b = b.as_bytes();
    let mut d = vec![vec![0usize; b.len() + 1]; a.len() + 1];
    for i in 1..=a.len() {
        for j in 1..=b.len() {
            d[i][j] = if a[i - 1] == b[j - 1] { d[i - 1][j - 1] + 1 } else { d[i - 1][j].max(d[i][j - 1]) };
        }
    }
    d[a.len()][b.len()]
}
fn main() {
    assert_eq!(lcs("ABCBDAB", "BDCABA"), 4);
    assert_eq!(lcs("abc", "def"), 0);
}
