// word-count
use std::collections::HashMap;
fn main() {
    let text = "the quick brown fox jumps over the lazy dog the end";
    let mut m: HashMap<&str, usize> = HashMap::new();
    for w in text.split_whitespace() {
        *m.entry(w).or_insert(0) += 1;
    }
    assert_eq!(m["the"], 3);
    assert_eq!(m["fox"], 1);
    assert_eq!(m.len(), 9);
}
