#!/usr/bin/env bash
# Runs every test suite (Expecto for the F# core, xunit for the facade and the TorchSharp
# comparison) from a clean or warm checkout, and ends with one plain line: "N passed, N failed".
# Exits non-zero when any suite fails, crashes, or when no test ran at all.
set -u -o pipefail
cd "$(dirname "$0")"

passed=0
failed=0
logs=$(mktemp -d)

summary() {
    echo "$passed passed, $failed failed"
    if [ "$failed" -ne 0 ] || [ "$passed" -eq 0 ]; then exit 1; fi
    exit 0
}

# The compare program draws its figures with ScottPlot, which renders text with a system font. A
# Debian machine without any TrueType font gets fonts-dejavu-core, once, where packages can be
# installed (root and apt-get); elsewhere the plot tests say what is missing.
if [ -z "$(find /usr/share/fonts -name '*.ttf' -print -quit 2>/dev/null)" ] && command -v apt-get >/dev/null && [ "$(id -u)" = 0 ]; then
    echo "== installing fonts-dejavu-core (no font found for the figures)"
    apt-get update -qq > /dev/null && apt-get install -y -qq fonts-dejavu-core > /dev/null
fi

echo "== build (Release)"
if ! dotnet build FunctionalDiff.sln -c Release -nologo -v minimal > "$logs/build.log" 2>&1; then
    cat "$logs/build.log"
    failed=$((failed + 1))
    summary
fi

# Expecto: the console runner prints "N passed, N ignored, N failed, N errored", with thousands
# separators from 1,000 on (so the digits include commas, removed before counting).
echo "== FunctionalDiff.Core.Tests (Expecto)"
dotnet tests/FunctionalDiff.Core.Tests/bin/Release/net10.0/FunctionalDiff.Core.Tests.dll --colours 0 --no-spinner 2>&1 | tee "$logs/expecto.log"
line=$(grep -Eo '[0-9,]+ passed, [0-9,]+ ignored, [0-9,]+ failed, [0-9,]+ errored' "$logs/expecto.log" | tail -n 1)
if [ -n "$line" ]; then
    read -r p _ _ _ f _ e _ <<< "$(echo "$line" | tr -d ',')"
    passed=$((passed + p))
    failed=$((failed + f + e))
else
    echo "Expecto printed no summary: counted as one failure"
    failed=$((failed + 1))
fi

# xunit suites through dotnet test; each prints "Failed: N, Passed: N, Skipped: N, Total: N".
# A test host that crashes (a native fault inside libtorch kills the process) prints "Test Run
# Aborted" and counts only the tests it finished, so the suite runs once more, as the comparison's
# runner reruns a case whose worker died; a second crash counts as a failure.
for project in tests/FunctionalDiff.Tests compare/FunctionalDiff.Compare.Tests; do
    echo "== $project (xunit)"
    dotnet test "$project" -c Release --no-build -nologo --blame-hang-timeout 30m 2>&1 | tee "$logs/xunit.log"
    if grep -q "Test Run Aborted" "$logs/xunit.log"; then
        echo "== $project: the test host crashed; running the suite once more"
        dotnet test "$project" -c Release --no-build -nologo --blame-hang-timeout 30m 2>&1 | tee "$logs/xunit.log"
        if grep -q "Test Run Aborted" "$logs/xunit.log"; then
            echo "$project: the test host crashed twice: counted as one failure"
            failed=$((failed + 1))
        fi
    fi
    counts=$(grep -Eo 'Failed: +[0-9]+, Passed: +[0-9]+' "$logs/xunit.log" | tail -n 1)
    if [ -n "$counts" ]; then
        f=$(echo "$counts" | sed -E 's/Failed: +([0-9]+), Passed: +([0-9]+)/\1/')
        p=$(echo "$counts" | sed -E 's/Failed: +([0-9]+), Passed: +([0-9]+)/\2/')
        passed=$((passed + p))
        failed=$((failed + f))
    else
        echo "$project printed no summary: counted as one failure"
        failed=$((failed + 1))
    fi
done

# The packaging test: both packages into a temporary feed, a fresh console project from it, and
# dotnet fsi with #r "nuget: FunctionalDiff.Core" (tests/pack/pack-test.sh says what it checks).
echo "== packaging (tests/pack/pack-test.sh)"
if bash tests/pack/pack-test.sh 2>&1 | tee "$logs/pack.log" | tail -n 5 && grep -q "^pack test: passed" "$logs/pack.log"; then
    passed=$((passed + 1))
else
    cat "$logs/pack.log"
    failed=$((failed + 1))
fi

summary
