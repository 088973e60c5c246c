namespace FunctionalDiff;

// The Bessel functions of Expr.TorchBessel.cs on concrete tensors, each a cached one-op plan.
public sealed partial class Tensor
{
    /// <summary>J₀ of each entry (torch.special.bessel_j0); see <see cref="Expr.BesselJ0"/>.</summary>
    public Tensor BesselJ0() => EagerPlans.Run("BesselJ0", a => a[0].BesselJ0(), this);

    /// <summary>J₁ of each entry (torch.special.bessel_j1); see <see cref="Expr.BesselJ1"/>.</summary>
    public Tensor BesselJ1() => EagerPlans.Run("BesselJ1", a => a[0].BesselJ1(), this);

    /// <summary>Y₀ of each entry (torch.special.bessel_y0); see <see cref="Expr.BesselY0"/>.</summary>
    public Tensor BesselY0() => EagerPlans.Run("BesselY0", a => a[0].BesselY0(), this);

    /// <summary>Y₁ of each entry (torch.special.bessel_y1); see <see cref="Expr.BesselY1"/>.</summary>
    public Tensor BesselY1() => EagerPlans.Run("BesselY1", a => a[0].BesselY1(), this);

    /// <summary>sin(x)/x of each entry (torch.special.spherical_bessel_j0); see <see cref="Expr.SphericalBesselJ0"/>.</summary>
    public Tensor SphericalBesselJ0() => EagerPlans.Run("SphericalBesselJ0", a => a[0].SphericalBesselJ0(), this);

    /// <summary>K₀ of each entry (torch.special.modified_bessel_k0); see <see cref="Expr.ModifiedBesselK0"/>.</summary>
    public Tensor ModifiedBesselK0() => EagerPlans.Run("ModifiedBesselK0", a => a[0].ModifiedBesselK0(), this);

    /// <summary>K₁ of each entry (torch.special.modified_bessel_k1); see <see cref="Expr.ModifiedBesselK1"/>.</summary>
    public Tensor ModifiedBesselK1() => EagerPlans.Run("ModifiedBesselK1", a => a[0].ModifiedBesselK1(), this);

    /// <summary>eˣ·K₀ of each entry (torch.special.scaled_modified_bessel_k0); see <see cref="Expr.ScaledModifiedBesselK0"/>.</summary>
    public Tensor ScaledModifiedBesselK0() => EagerPlans.Run("ScaledModifiedBesselK0", a => a[0].ScaledModifiedBesselK0(), this);

    /// <summary>eˣ·K₁ of each entry (torch.special.scaled_modified_bessel_k1); see <see cref="Expr.ScaledModifiedBesselK1"/>.</summary>
    public Tensor ScaledModifiedBesselK1() => EagerPlans.Run("ScaledModifiedBesselK1", a => a[0].ScaledModifiedBesselK1(), this);
}
