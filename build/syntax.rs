//! Small readers of the generated syntax that the rewrites share.

/// Whether `expr` names a path, or calls a method, whose last segment is `name`.
pub(crate) fn expr_names(expr: &syn::Expr, name: &str) -> bool {
    let mut finder = Finder { name, found: false };
    syn::visit::Visit::visit_expr(&mut finder, expr);
    finder.found
}

/// Whether `block` names a path, or calls a method, whose last segment is `name`.
pub(crate) fn block_names(block: &syn::Block, name: &str) -> bool {
    let mut finder = Finder { name, found: false };
    syn::visit::Visit::visit_block(&mut finder, block);
    finder.found
}

/// Whether `block` calls `header_map.append(…)`.
pub(crate) fn appends_headers(block: &syn::Block) -> bool {
    struct Appends(bool);
    impl<'ast> syn::visit::Visit<'ast> for Appends {
        fn visit_expr_method_call(&mut self, call: &'ast syn::ExprMethodCall) {
            if call.method == "append" && is_local(&call.receiver, "header_map") {
                self.0 = true;
            }
            syn::visit::visit_expr_method_call(self, call);
        }
    }
    let mut appends = Appends(false);
    syn::visit::Visit::visit_block(&mut appends, block);
    appends.0
}

/// See [`expr_names`].
pub(crate) struct Finder<'a> {
    pub(crate) name: &'a str,
    pub(crate) found: bool,
}

impl<'ast> syn::visit::Visit<'ast> for Finder<'_> {
    fn visit_path(&mut self, path: &'ast syn::Path) {
        if path.segments.last().is_some_and(|s| s.ident == self.name) {
            self.found = true;
        }
        syn::visit::visit_path(self, path);
    }
    fn visit_expr_method_call(&mut self, call: &'ast syn::ExprMethodCall) {
        if call.method == self.name {
            self.found = true;
        }
        syn::visit::visit_expr_method_call(self, call);
    }
}

/// Whether `expr` is the plain path `name` (a local variable).
pub(crate) fn is_local(expr: &syn::Expr, name: &str) -> bool {
    matches!(expr, syn::Expr::Path(p) if p.qself.is_none() && p.path.is_ident(name))
}

/// Whether `ty` is the plain type name `name`.
pub(crate) fn is_type(ty: &syn::Type, name: &str) -> bool {
    matches!(ty, syn::Type::Path(p) if p.qself.is_none() && p.path.is_ident(name))
}

/// Whether a statement is `let [mut] <name> = …;`.
pub(crate) fn binds(statement: &syn::Stmt, name: &str) -> bool {
    let syn::Stmt::Local(local) = statement else {
        return false;
    };
    matches!(&local.pat, syn::Pat::Ident(p) if p.ident == name)
}

/// Whether `node` holds the string literal `value` anywhere.
pub(crate) struct LiteralFinder<'a> {
    pub(crate) value: &'a str,
    pub(crate) found: bool,
}

impl<'ast> syn::visit::Visit<'ast> for LiteralFinder<'_> {
    fn visit_lit_str(&mut self, literal: &'ast syn::LitStr) {
        if literal.value() == self.value {
            self.found = true;
        }
    }
}

pub(crate) fn holds_literal(statement: &syn::Stmt, value: &str) -> bool {
    let mut finder = LiteralFinder {
        value,
        found: false,
    };
    syn::visit::Visit::visit_stmt(&mut finder, statement);
    finder.found
}

/// The name of a plain type (`ListTasks` of `impl ListTasks`).
pub(crate) fn type_ident(ty: &syn::Type) -> Option<String> {
    match ty {
        syn::Type::Path(path) if path.qself.is_none() => {
            path.path.segments.last().map(|s| s.ident.to_string())
        }
        _ => None,
    }
}
