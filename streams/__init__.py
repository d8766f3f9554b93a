"""The Faust shell: settings, the app, topics, tables, codecs, metrics and the CLI verbs."""
