// fizzbuzz
fn fb(n: u32) -> String {
    match (n % 3, n % 5) {
        (0, 0) => "FizzBuzz".into(),
        (0, _) => "Fizz".into(),
        (_, 0) => "Buzz".into(),
        _ => n.to_string(),
    }
}
fn main() {
    let v: Vec<String> = (1..=15).map(fb).collect();
    assert_eq!(v[14], "FizzBuzz");
    assert_eq!(v[8], "Fizz");
    assert_eq!(v[9], "Buzz");
    assert_eq!(v[6], "7");
}
