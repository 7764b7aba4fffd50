// iterator-primes-twin
fn is_prime(n: u32) -> bool {
    n >= 2 && (2..).take_while(|i| i * i <= n).all(|i| n % i != 0)
}
fn main() {
    let twins: Vec<(u32, u32)> = (2..100).filter(|&p| is_prime(p) && is_prime(p + 2)).map(|p| (p, p + 2)).collect();
    assert_eq!(twins.len(), 8);
    assert_eq!(twins[0], (3, 5));
    assert_eq!(*twins.last().unwrap(), (71, 73));
}
