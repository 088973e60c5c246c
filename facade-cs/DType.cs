namespace FunctionalDiff;

/// <summary>The element type of a <c>Tensor</c> or an <c>Expr</c>.</summary>
public enum DType
{
    /// <summary>32-bit IEEE 754 floating point (torch.float32).</summary>
    Float32,

    /// <summary>64-bit IEEE 754 floating point (torch.float64).</summary>
    Float64,
}
