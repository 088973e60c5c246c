namespace FunctionalDiff;

/// <summary>The outcome of <see cref="Diff.CheckGrad"/>.</summary>
/// <param name="Passed">True when every derivative agreed with finite differences within tolerance.</param>
/// <param name="MaxError">The largest error found, relative to the derivatives' scale.</param>
/// <param name="Order">The highest derivative order checked.</param>
/// <param name="Mode">Which modes were checked (reverse, forward, or both).</param>
/// <param name="Message">A readable summary, naming the first disagreement when there is one.</param>
public sealed record GradCheckResult(bool Passed, double MaxError, int Order, string Mode, string Message);
