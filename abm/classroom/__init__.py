"""The classroom game (issue 19): a class plays some of a scenario's firms, round by round, the computer the rest.

* :mod:`.game` -- :class:`Game`: create or open a game, join, submit, close a round, pause, end, the views;
* :mod:`.decisions` -- what each role decides, and the check of every value a student sends;
* :mod:`.seats` -- the seats on the model: a person's rule over a firm's own (:mod:`agents.human`);
* :mod:`.store` -- the game's SQLite log: committed before anything takes effect;
* :mod:`.views` -- what a seat and the teacher see;
* :mod:`.tables` -- the tables a game (and its replay) writes.

A game lives in one process at a time (its file is locked while open); see :mod:`.game` for how a server with
several workers routes a game's requests to the one that holds it.
"""
