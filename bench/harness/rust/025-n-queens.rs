// n-queens
fn solve(n: usize, row: usize, cols: &mut Vec<bool>, d1: &mut Vec<bool>, d2: &mut Vec<bool>) -> u32 {
    if row == n {
        return 1;
    }
    let mut count = 0;
    for c in 0..n {
        if !cols[c] && !d1[row + c] && !d2[row + n - c - 1] {
            cols[c] = true;
            d1[row + c] = true;
            d2[row + n - c - 1] = true;
            count += solve(n, row + 1, cols, d1, d2);
            cols[c] = false;
            d1[row + c] = false;
            d2[row + n - c - 1] = false;
        }
    }
    count
}
fn main() {
    let q = |n: usize| solve(n, 0, &mut vec![false; n], &mut vec![false; 2 * n], &mut vec![false; 2 * n]);
    assert_eq!(q(6), 4);
    assert_eq!(q(8), 92);
}
