"""The lessons' settings and limits the command line reads while it parses arguments, in a module that imports
nothing: ``tokenomy lesson --help`` or a bad flag must not wait for numpy and the compiled kernels to load."""

# classic markets (lessons.markets)
MAX_LESSON_PRICE = 1e6  # prices and values of a classroom market; sums of them stay far from overflow
MAX_STEPS = 1000  # buyers (or sellers) of a call market: it clears on a buyers x sellers table

# algorithmic pricing (lessons.algorithmic_pricing)
PAPER_ALPHA = 0.15  # learning rate of the paper's baseline
PAPER_DELTA = 0.95  # discount factor
PAPER_BETA = 4e-6  # exploration decays as exp(-beta t)
DEFAULT_MAX_PERIODS = 5_000_000  # cap of periods in a session (the paper's sessions converge well before)
MAX_PERIODS = 20_000_000  # the largest cap accepted: a few seconds of a compiled loop
