"""The classroom game (issue 19): a class plays some of a scenario's firms, round by round, the computer the rest.

* :mod:`.game` -- :class:`Game`: create or open a game, join, submit, close a round, pause, end, the views;
* :mod:`.decisions` -- what each role decides, and the check of every value a student sends;
* :mod:`.seats` -- the seats on the model: a person's rule over a firm's own (:mod:`agents.human`);
* :mod:`.store` -- the game's SQLite log: committed before anything takes effect;
* :mod:`.views` -- what a seat and the teacher see;
* :mod:`.tables` -- the tables a game (and its replay) writes.

A game lives in one place, its file, held by one server: one process exclusively, or the worker processes of one
server shared, the log keeping them one game (:mod:`.game`, "Processes").
"""
