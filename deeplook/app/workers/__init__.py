"""Where runs train: never in the server's interpreter. ``training`` is what a worker does (engine only,
no web code); ``local`` runs it in processes of this machine, ``ray`` as actors of a Ray cluster."""
