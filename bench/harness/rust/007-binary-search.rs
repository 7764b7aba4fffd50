// binary-search
fn bsearch(v: &[i32], x: i32) -> Option<usize> {
    let (mut lo, mut hi) = (0usize, v.len());
    while lo < hi {
        let mid = (lo + hi) / 2;
        if v[mid] < x {
            lo = mid + 1;
        } else if v[mid] > x {
            hi = mid;
        } else {
            return Some(mid);
        }
    }
    None
}
fn main() {
    let v: Vec<i32> = (0..100).map(|i| i * 3).collect();
    assert_eq!(bsearch(&v, 42), Some(14));
    assert_eq!(bsearch(&v, 43), None);
    assert_eq!(bsearch(&[], 1), None);
}
