// topological-sort
fn topo(n: usize, edges: &[(usize, usize)]) -> Option<Vec<usize>> {
    let mut indeg = vec![0; n];
    let mut adj = vec![vec![]; n];
    for &(a, b) in edges {
        adj[a].push(b);
        indeg[b] += 1;
    }
    let mut st: Vec<usize> = (0..n).filter(|&i| indeg[i] == 0).rev().collect();
    let mut out = vec![];
    while let Some(u) = st.pop() {
        out.push(u);
        for &v in &adj[u] {
            indeg[v] -= 1;
            if indeg[v] == 0 {
                st.push(v);
            }
        }
    }
    if out.len() == n { Some(out) } else { None }
}
fn main() {
    let order = topo(4, &[(0, 1), (1, 2), (0, 3), (3, 2)]).unwrap();
    let pos = |x| order.iter().position(|&y| y == x).unwrap();
    assert!(pos(0) < pos(1) && pos(1) < pos(2) && pos(3) < pos(2));
    assert_eq!(topo(2, &[(0, 1), (1, 0)]), None);
}
