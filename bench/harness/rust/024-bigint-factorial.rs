// bigint-factorial
fn mul_small(d: &mut Vec<u32>, m: u32) {
    let mut carry = 0u64;
    for x in d.iter_mut() {
        let v = *x as u64 * m as u64 + carry;
        *x = (v % 1_000_000_000) as u32;
        carry = v / 1_000_000_000;
    }
    while carry > 0 {
        d.push((carry % 1_000_000_000) as u32);
        carry /= 1_000_000_000;
    }
}
fn main() {
    let mut d = vec![1u32];
    for i in 2..=100 {
        mul_small(&mut d, i);
    }
    let s: String = d.iter().rev().enumerate().map(|(i, x)| if i == 0 { x.to_string() } else { format!("{:09}", x) }).collect();
    assert_eq!(s.len(), 158);
    assert_eq!(s.chars().map(|c| c.to_digit(10).unwrap()).sum::<u32>(), 648);
}
