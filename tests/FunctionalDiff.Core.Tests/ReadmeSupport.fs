/// The README's F# examples are code of the test files: a block marked `// BEGIN README: …` in a
/// test file must equal the first F# block of its README section, so a README example that no
/// longer compiles or no longer gives the tested numbers fails a test.
module FunctionalDiff.Core.Tests.ReadmeSupport

open System
open System.IO
open System.Text.RegularExpressions
open Expecto

/// A file of the repository, found by walking up from the test binaries.
let repositoryFile (name: string) =
    let mutable directory = DirectoryInfo(AppContext.BaseDirectory)
    while not (isNull directory) && not (File.Exists(Path.Combine(directory.FullName, name))) do
        directory <- directory.Parent
    if isNull directory then failwithf "%s not found above %s" name AppContext.BaseDirectory
    File.ReadAllText(Path.Combine(directory.FullName, name))

/// Lines with their common indentation removed, trailing blanks dropped.
let private dedent (text: string) =
    let lines = text.Replace("\r", "").TrimEnd().Split('\n') |> Array.map (fun l -> l.TrimEnd())
    let indent = lines |> Array.filter (fun l -> l.Length > 0) |> Array.map (fun l -> l.Length - l.TrimStart().Length) |> Array.min
    lines |> Array.map (fun l -> if l.Length >= indent then l.Substring indent else l) |> String.concat "\n"

/// Expects the code between `// BEGIN README<marker>` and `// END README<marker>` in `testFile`
/// to be the first ```fsharp block after the README heading `heading`.
let expectReadmeBlock (testFile: string) (marker: string) (heading: string) =
    let source = repositoryFile testFile
    let m = Regex.Escape marker
    let marked = Regex.Match(source, @"// BEGIN README" + m + @"\r?\n(.*?)\n\s*// END README" + m, RegexOptions.Singleline)
    let readme = repositoryFile "README.md"
    let section = readme.IndexOf(heading, StringComparison.Ordinal)
    Expect.isGreaterThanOrEqual section 0 (sprintf "README has the section %s" heading)
    let block = Regex.Match(readme.Substring section, @"```fsharp\r?\n(.*?)```", RegexOptions.Singleline)
    Expect.isTrue (marked.Success && block.Success) "markers and code block found"
    Expect.equal (dedent block.Groups.[1].Value) (dedent marked.Groups.[1].Value) "README block = marked code"
