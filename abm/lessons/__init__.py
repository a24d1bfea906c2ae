"""Lessons: classic markets as pure functions (call market, zero-intelligence double auction, cobweb),
the lesson catalogue in docs/lessons/, and the ``tokenomy check`` / ``tokenomy lesson`` commands."""
