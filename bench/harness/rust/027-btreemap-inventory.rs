// btreemap-inventory
use std::collections::BTreeMap;
fn main() {
    let mut inv: BTreeMap<String, i32> = BTreeMap::new();
    for (k, v) in [("b", 2), ("a", 5), ("c", 1), ("a", -2)] {
        *inv.entry(k.to_string()).or_default() += v;
    }
    let keys: Vec<&String> = inv.keys().collect();
    assert_eq!(keys, vec!["a", "b", "c"]);
    assert_eq!(inv["a"], 3);
    assert_eq!(inv.values().sum::<i32>(), 6);
}
