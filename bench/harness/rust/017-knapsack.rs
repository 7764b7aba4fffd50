// knapsack
fn knap(items: &[(usize, u64)], cap: usize) -> u64 {
    let mut d = vec![0u64; cap + 1];
    for &(w, v) in items {
        for c in (w..=cap).rev() {
            d[c] = d[c].max(d[c - w] + v);
        }
    }
    d[cap]
}
fn main() {
    assert_eq!(knap(&[(1, 1), (3, 4), (4, 5), (5, 7)], 7), 9);
    assert_eq!(knap(&[(10, 60), (20, 100), (30, 120)], 50), 220);
}
