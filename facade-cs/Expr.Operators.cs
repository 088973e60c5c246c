using System.Runtime.CompilerServices;
using Build = FunctionalDiff.Core.ExprModule;
using CoreExpr = FunctionalDiff.Core.Expr;

namespace FunctionalDiff;

// Arithmetic and comparison operators, with NumPy/torch broadcasting. float32 meeting float64
// gives float64; a bare double takes the other operand's dtype. Shape errors of the operators name
// the core op (Add, Sub, Mul, Div); those of the comparisons name the method (Lt, ..., Ne), which the
// comparison operators call.
public sealed partial class Expr
{
    /// <summary>Elementwise sum.</summary>
    public static Expr operator +(Expr a, Expr b) { var (x, y) = Align(a, b); return Wrap(Build.add(x, y)); }

    /// <summary>Elementwise difference.</summary>
    public static Expr operator -(Expr a, Expr b) { var (x, y) = Align(a, b); return Wrap(Build.sub(x, y)); }

    /// <summary>Elementwise product.</summary>
    public static Expr operator *(Expr a, Expr b) { var (x, y) = Align(a, b); return Wrap(Build.mul(x, y)); }

    /// <summary>Elementwise quotient.</summary>
    public static Expr operator /(Expr a, Expr b) { var (x, y) = Align(a, b); return Wrap(Build.div(x, y)); }

    /// <summary>Negation.</summary>
    public static Expr operator -(Expr a)
    {
        ArgumentNullException.ThrowIfNull(a);
        return a.IsLiteral ? new Expr(Build.neg(a.Node), isLiteral: true) : Wrap(Build.neg(a.Node));
    }

    /// <summary>1 where a &lt; b, else 0, in the operands' dtype.</summary>
    public static Expr operator <(Expr a, Expr b) => Compare("Lt", a, b, Build.lt);

    /// <summary>1 where a &gt; b, else 0, in the operands' dtype.</summary>
    public static Expr operator >(Expr a, Expr b) => Compare("Gt", a, b, Build.gt);

    /// <summary>1 where a &lt;= b, else 0, in the operands' dtype.</summary>
    public static Expr operator <=(Expr a, Expr b) => Compare("Le", a, b, Build.le);

    /// <summary>1 where a &gt;= b, else 0, in the operands' dtype.</summary>
    public static Expr operator >=(Expr a, Expr b) => Compare("Ge", a, b, Build.ge);

    /// <summary>1 where this &lt; other, else 0 (zero derivative).</summary>
    public Expr Lt(Expr other) => Compare("Lt", this, other, Build.lt);

    /// <summary>1 where this &lt;= other, else 0 (zero derivative).</summary>
    public Expr Le(Expr other) => Compare("Le", this, other, Build.le);

    /// <summary>1 where this &gt; other, else 0 (zero derivative).</summary>
    public Expr Gt(Expr other) => Compare("Gt", this, other, Build.gt);

    /// <summary>1 where this &gt;= other, else 0 (zero derivative).</summary>
    public Expr Ge(Expr other) => Compare("Ge", this, other, Build.ge);

    /// <summary>1 where this equals other, else 0 (zero derivative).</summary>
    public Expr Eq(Expr other) => Compare("Eq", this, other, Build.eq);

    /// <summary>1 where this differs from other, else 0 (zero derivative).</summary>
    public Expr Ne(Expr other) => Compare("Ne", this, other, Build.ne);

    /// <summary>A comparison under its public name; null operands are reported under the caller's parameter names.</summary>
    static Expr Compare(string method, Expr a, Expr b, Func<CoreExpr, CoreExpr, CoreExpr> build,
        [CallerArgumentExpression(nameof(a))] string aName = "", [CallerArgumentExpression(nameof(b))] string bName = "")
    {
        var (x, y) = Align(a, b, aName, bName);
        return Wrap(Interop.Named(method, () => build(x, y)));
    }
}
