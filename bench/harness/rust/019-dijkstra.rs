// dijkstra
use std::cmp::Reverse;
use std::collections::BinaryHeap;
fn dijkstra(adj: &[Vec<(usize, u64)>], s: usize) -> Vec<u64> {
    let mut d = vec![u64::MAX; adj.len()];
    let mut h = BinaryHeap::new();
    d[s] = 0;
    h.push(Reverse((0u64, s)));
    while let Some(Reverse((du, u))) = h.pop() {
        if du > d[u] {
            continue;
        }
        for &(v, w) in &adj[u] {
            if du + w < d[v] {
                d[v] = du + w;
                h.push(Reverse((d[v], v)));
            }
        }
    }
    d
}
fn main() {
    let adj = vec![vec![(1, 4), (2, 1)], vec![(3, 1)], vec![(1, 2), (3, 5)], vec![]];
    assert_eq!(dijkstra(&adj, 0), vec![0, 3, 1, 4]);
}
