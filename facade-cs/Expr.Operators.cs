using Build = FunctionalDiff.Core.ExprModule;

namespace FunctionalDiff;

// Arithmetic and comparison operators, with NumPy/torch broadcasting. float32 meeting float64
// gives float64; a bare double takes the other operand's dtype.
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
    public static Expr operator <(Expr a, Expr b) => a.Lt(b);

    /// <summary>1 where a &gt; b, else 0, in the operands' dtype.</summary>
    public static Expr operator >(Expr a, Expr b) => a.Gt(b);

    /// <summary>1 where a &lt;= b, else 0, in the operands' dtype.</summary>
    public static Expr operator <=(Expr a, Expr b) => a.Le(b);

    /// <summary>1 where a &gt;= b, else 0, in the operands' dtype.</summary>
    public static Expr operator >=(Expr a, Expr b) => a.Ge(b);

    /// <summary>1 where this &lt; other, else 0 (zero derivative).</summary>
    public Expr Lt(Expr other) { var (x, y) = Align(this, other); return Wrap(Build.lt(x, y)); }

    /// <summary>1 where this &lt;= other, else 0 (zero derivative).</summary>
    public Expr Le(Expr other) { var (x, y) = Align(this, other); return Wrap(Build.le(x, y)); }

    /// <summary>1 where this &gt; other, else 0 (zero derivative).</summary>
    public Expr Gt(Expr other) { var (x, y) = Align(this, other); return Wrap(Build.gt(x, y)); }

    /// <summary>1 where this &gt;= other, else 0 (zero derivative).</summary>
    public Expr Ge(Expr other) { var (x, y) = Align(this, other); return Wrap(Build.ge(x, y)); }

    /// <summary>1 where this equals other, else 0 (zero derivative).</summary>
    public Expr Eq(Expr other) { var (x, y) = Align(this, other); return Wrap(Build.eq(x, y)); }

    /// <summary>1 where this differs from other, else 0 (zero derivative).</summary>
    public Expr Ne(Expr other) { var (x, y) = Align(this, other); return Wrap(Build.ne(x, y)); }
}
