"""Starting a program under the tracer: what to run, the environment that passes
options to it, the bootstrap that starts recording inside it, the child process
under the TUI, and the recording session in the program."""
