using CoreParallelism = FunctionalDiff.Core.Parallelism;

namespace FunctionalDiff;

/// <summary>
/// The settings of the worker threads that parallel kernels share (elementwise ops and reductions
/// on large tensors, matrix products). They are process-wide and apply from the next parallel call
/// on. Idle workers spin for <see cref="SpinTime"/>, then block and use no CPU until work arrives.
/// Workers never change the CPU affinity of your threads; on Linux a worker that wakes on the CPU of
/// the thread that called the kernel moves off it for that call only, and gets its own CPU set
/// back when the call ends.
/// </summary>
public static class Parallelism
{
    /// <summary>
    /// The most threads a parallel kernel runs on at once, the calling thread included: the number
    /// of logical processors unless set. 1 runs every kernel on the calling thread alone. A value
    /// above the number of processors starts more worker threads, which then share the processors.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException">The value is less than 1.</exception>
    public static int MaxDegree
    {
        get => CoreParallelism.MaxDegree;
        set => CoreParallelism.MaxDegree = value;
    }

    /// <summary>
    /// How long an idle worker keeps looking for the next job, using its CPU, before it blocks:
    /// half a millisecond unless set. A longer spin helps kernels called with short pauses between
    /// them; zero makes workers block as soon as a job ends.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException">The value is negative or longer than one second.</exception>
    public static TimeSpan SpinTime
    {
        get => CoreParallelism.SpinTime;
        set => CoreParallelism.SpinTime = value;
    }
}
