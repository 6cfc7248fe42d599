#!/usr/bin/env python3
"""Import cycles of the crate: python3 scripts/import_cycles.py [checkout]

Builds the file-level graph of `crate::…`, `super::…` and child-module (`name::…`) references in
src/ (comments and `#[cfg(test)] mod tests` left out), prints every strongly connected component
of more than one file, then the same for layers (a top-level file or folder of src/: api, auth,
service, store, …) and says whether the layers form a DAG. Issue 13 measured 28 files in one
cycle on the release before the domain-services refactor."""
import re,os,sys
root=(sys.argv[1] if len(sys.argv) > 1 else '.')+'/src'
files={}
for d,_,fs in os.walk(root):
    for f in fs:
        if f.endswith('.rs'):
            p=os.path.join(d,f); rel=os.path.relpath(p,root)
            files[rel]=open(p).read()
def modpath(rel):
    parts=rel[:-3].split('/')
    if parts[-1] in ('mod','lib','main'): parts=parts[:-1]
    return parts
mods={tuple(modpath(r)):r for r in files}
def resolve(path):
    # longest prefix that is a module file
    for n in range(len(path),0,-1):
        if tuple(path[:n]) in mods: return mods[tuple(path[:n])]
    return None
edges={r:set() for r in files}
for rel,src in files.items():
    me=modpath(rel)
    src=re.sub(r'//[^\n]*','',src)
    src=re.sub(r'#\[cfg\(test\)\]\s*mod tests\s*\{(?:.|\n)*','',src)
    for m in re.finditer(r'crate::([a-z_][a-z_0-9]*(?:::[a-z_][a-z_0-9]*)*)',src):
        t=resolve(m.group(1).split('::'))
        if t and t!=rel: edges[rel].add(t)
    for m in re.finditer(r'\bsuper::([a-z_][a-z_0-9]*(?:::[a-z_][a-z_0-9]*)*)',src):
        base=me[:-1] if not rel.endswith('mod.rs') else me[:-1]
        t=resolve(base+m.group(1).split('::'))
        if t and t!=rel: edges[rel].add(t)
    # child and sibling modules named without crate::/super:: (`admin::routes` in api/mod.rs)
    base = me if rel.endswith('mod.rs') or rel=='lib.rs' else me[:-1]
    for m in re.finditer(r'(?<![:\w])([a-z_][a-z_0-9]*)::([a-z_A-Z][a-z_A-Z0-9]*)',src):
        if m.group(1) in ('crate','super','self','std','sqlx','serde','axum','tokio','chrono'): continue
        t=mods.get(tuple(base+[m.group(1)]))
        if t and t!=rel: edges[rel].add(t)
# tarjan
index={};low={};st=[];on=set();sccs=[];i=[0]
sys.setrecursionlimit(10000)
def sc(v):
    index[v]=low[v]=i[0];i[0]+=1;st.append(v);on.add(v)
    for w in edges[v]:
        if w not in index: sc(w);low[v]=min(low[v],low[w])
        elif w in on: low[v]=min(low[v],index[w])
    if low[v]==index[v]:
        c=[]
        while True:
            w=st.pop();on.discard(w);c.append(w)
            if w==v:break
        sccs.append(c)
for v in edges:
    if v not in index: sc(v)
big=[c for c in sccs if len(c)>1]
big.sort(key=len,reverse=True)
for c in big: print(len(c),sorted(c))

# Layers: the first path component (a folder, or a file's module name).
def layer(rel):
    return rel.split('/')[0] if '/' in rel else rel[:-3]
ledges={}
for a,bs in edges.items():
    for b in bs:
        la,lb=layer(a),layer(b)
        if la!=lb and la not in ('lib','main'):
            ledges.setdefault(la,set()).add(lb)
nodes=set(ledges)|{x for v in ledges.values() for x in v}
state={}
cycle=[]
def visit(n,path):
    state[n]=1
    for m in sorted(ledges.get(n,())):
        if state.get(m)==1:
            cycle.append(path+[n,m]); continue
        if m not in state: visit(m,path+[n])
    state[n]=2
for n in sorted(nodes):
    if n not in state: visit(n,[])
print('layers:', 'a DAG' if not cycle else 'cycles: '+'; '.join(' -> '.join(c) for c in cycle[:5]))
for n in sorted(ledges): print(f'  {n} -> {", ".join(sorted(ledges[n]))}')
