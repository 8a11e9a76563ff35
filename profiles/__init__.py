"""Starting a session: the IPython profile, the console entry point and the demo."""
