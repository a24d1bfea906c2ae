"""Lessons: classic markets as pure functions (call market, zero-intelligence double auction, cobweb; Q-learning
firms pricing against each other in ``algorithmic_pricing``), the lesson catalogue in docs/lessons/, and the
``tokenomy check`` / ``tokenomy lesson`` commands."""
