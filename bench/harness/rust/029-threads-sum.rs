// threads-sum
use std::sync::mpsc;
use std::thread;
fn main() {
    let (tx, rx) = mpsc::channel();
    let hs: Vec<_> = (0..4u64)
        .map(|k| {
            let tx = tx.clone();
            thread::spawn(move || {
                let s: u64 = (k * 250_000..(k + 1) * 250_000).sum();
                tx.send(s).unwrap();
            })
        })
        .collect();
    drop(tx);
    for h in hs {
        h.join().unwrap();
    }
    let total: u64 = rx.iter().sum();
    assert_eq!(total, 999_999 * 1_000_000 / 2);
}
