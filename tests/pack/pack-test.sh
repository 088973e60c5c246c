#!/usr/bin/env bash
# The packaging test: packs FunctionalDiff.Core and FunctionalDiff into a temporary feed, checks
# what each package carries (README, XML docs, licence expression, symbols, dependencies), then,
# as a new user would, creates a fresh console project that references FunctionalDiff from that
# feed (restored into its own packages folder, so no cached copy of an older build is used),
# builds it and runs the README's C# quickstart; and references FunctionalDiff.Core from
# `dotnet fsi` with `#r "nuget: ..."` and runs a matrix product. Prints "pack test: passed" last.
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
fail() { echo "pack test: FAILED: $*"; exit 1; }

echo "-- dotnet pack (Release) into $work/feed"
for project in core-fs facade-cs; do
    dotnet pack "$root/$project" -c Release -o "$work/feed" -nologo -v q -p:WarningLevel=0 > "$work/pack-$project.log" 2>&1 \
        || { cat "$work/pack-$project.log"; fail "dotnet pack $project"; }
done

version=$(sed -n 's:.*<Version>\(.*\)</Version>.*:\1:p' "$root/packaging/Package.props")
for id in FunctionalDiff.Core FunctionalDiff; do
    package="$work/feed/$id.$version.nupkg"
    [ -f "$package" ] || fail "$package missing"
    [ -f "$work/feed/$id.$version.snupkg" ] || fail "symbols package of $id missing"
    listing=$(unzip -l "$package")
    for entry in README.md "lib/net10.0/$id.dll" "lib/net10.0/$id.xml"; do
        grep -q " $entry\$" <<< "$listing" || fail "$id lacks $entry"
    done
    nuspec=$(unzip -p "$package" "$id.nuspec")
    grep -q '<license type="expression">' <<< "$nuspec" || fail "$id has no licence expression"
    symbols=$(unzip -l "$work/feed/$id.$version.snupkg")
    grep -q "lib/net10.0/$id.pdb" <<< "$symbols" || fail "$id's symbols lack the pdb"
done
# (grep -q reads from variables: on a pipe it could close early and fail the writer under pipefail)
core_nuspec=$(unzip -p "$work/feed/FunctionalDiff.Core.$version.nupkg" FunctionalDiff.Core.nuspec)
for dependency in System.Numerics.Tensors FSharp.Core; do
    grep -q "id=\"$dependency\"" <<< "$core_nuspec" || fail "FunctionalDiff.Core does not declare $dependency"
done
facade_nuspec=$(unzip -p "$work/feed/FunctionalDiff.$version.nupkg" FunctionalDiff.nuspec)
grep -q 'id="FunctionalDiff.Core"' <<< "$facade_nuspec" || fail "FunctionalDiff does not declare FunctionalDiff.Core"

echo "-- a fresh console project referencing FunctionalDiff $version from the feed"
mkdir "$work/app"
cat > "$work/app/nuget.config" <<XML
<?xml version="1.0" encoding="utf-8"?>
<configuration>
  <packageSources>
    <add key="functionaldiff-test-feed" value="$work/feed" />
  </packageSources>
</configuration>
XML
cat > "$work/app/app.csproj" <<XML
<Project Sdk="Microsoft.NET.Sdk">
  <PropertyGroup>
    <OutputType>Exe</OutputType>
    <TargetFramework>net10.0</TargetFramework>
    <ImplicitUsings>enable</ImplicitUsings>
    <Nullable>enable</Nullable>
    <RestorePackagesPath>$work/packages</RestorePackagesPath>
  </PropertyGroup>
  <ItemGroup>
    <PackageReference Include="FunctionalDiff" Version="$version" />
  </ItemGroup>
</Project>
XML
{
    echo "using FunctionalDiff;"
    sed -n '/\/\/ BEGIN README/,/\/\/ END README/p' "$root/tests/FunctionalDiff.Tests/Quickstart.cs" | sed '1d;$d'
} > "$work/app/Program.cs"
(cd "$work/app" && dotnet build -c Release -nologo -v q > "$work/app-build.log" 2>&1) || { cat "$work/app-build.log"; fail "the console project does not build"; }
output=$(cd "$work/app" && dotnet bin/Release/net10.0/app.dll) || fail "the quickstart crashed: $output"
echo "$output"
[ "$(grep -c '^tensor(' <<< "$output")" -eq 3 ] || fail "the quickstart printed $(grep -c '^tensor(' <<< "$output") tensors, not 3"

echo "-- dotnet fsi: #r \"nuget: FunctionalDiff.Core\" from the feed, then a matrix product"
cat > "$work/script.fsx" <<FSX
#i "nuget: $work/feed"
#r "nuget: FunctionalDiff.Core, $version"
open FunctionalDiff.Core
let a = Tensor.ofArray64 [| 2; 2 |] [| 1.0; 2.0; 3.0; 4.0 |]
let p = TensorMath.matmul a a
// [[1, 2], [3, 4]]² = [[7, 10], [15, 22]]
if p.ToDoubleArray() <> [| 7.0; 10.0; 15.0; 22.0 |] then failwithf "wrong product %O" p
printfn "fsi matmul ok"
FSX
fsi_out=$(cd "$work" && NUGET_PACKAGES="$work/packages" dotnet fsi script.fsx 2>&1) || { echo "$fsi_out"; fail "dotnet fsi"; }
grep -q "fsi matmul ok" <<< "$fsi_out" || { echo "$fsi_out"; fail "dotnet fsi printed no result"; }
echo "pack test: passed"
