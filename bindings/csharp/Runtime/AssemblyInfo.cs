using System.Runtime.CompilerServices;

// The tests check NativeMethods against the header and drive the raw API.
[assembly: InternalsVisibleTo("WsMachine.Tests")]
