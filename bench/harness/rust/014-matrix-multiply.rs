// matrix-multiply
fn mul(a: &[Vec<i64>], b: &[Vec<i64>]) -> Vec<Vec<i64>> {
    let n = a.len();
    let m = b[0].len();
    let k = b.len();
    let mut c = vec![vec![0; m]; n];
    for i in 0..n {
        for j in 0..m {
            for t in 0..k {
                c[i][j] += a[i][t] * b[t][j];
            }
        }
    }
    c
}
fn main() {
    let a = vec![vec![1, 2], vec![3, 4]];
    let b = vec![vec![5, 6], vec![7, 8]];
    assert_eq!(mul(&a, &b), vec![vec![19, 22], vec![43, 50]]);
    let mut f = vec![vec![1, 1], vec![1, 0]];
    for _ in 0..9 {
        f = mul(&f, &vec![vec![1, 1], vec![1, 0]]);
    }
    assert_eq!(f[0][1], 55);
}
