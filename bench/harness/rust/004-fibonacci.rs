// fibonacci
fn fib(n: u32) -> u64 {
    let (mut a, mut b) = (0u64, 1u64);
    for _ in 0..n {
        let t = a + b;
        a = b;
        b = t;
    }
    a
}
fn main() {
    let v: Vec<u64> = (0..10).map(fib).collect();
    assert_eq!(v, vec![0, 1, 1, 2, 3, 5, 8, 13, 21, 34]);
    assert_eq!(fib(90), 2880067194370816120);
}
