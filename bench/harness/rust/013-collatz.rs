// collatz
fn steps(mut n: u64) -> u32 {
    let mut k = 0;
    while n != 1 {
        n = if n % 2 == 0 { n / 2 } else { 3 * n + 1 };
        k += 1;
    }
    k
}
fn main() {
    assert_eq!(steps(27), 111);
    let best = (1..10000u64).max_by_key(|&n| steps(n)).unwrap();
    assert_eq!(best, 6171);
}
