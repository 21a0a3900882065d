# The two commands: `make demo` (set up + run the demo batch) and `make test` (set up + run the tests).
SHELL := /bin/bash
VENV := .venv
HOCVU := $(VENV)/bin/hocvu

.PHONY: demo test lint bench setup setup-test messages

setup:
	@bash .ci/setup

setup-test:
	@bash .ci/setup --test

demo: setup
	@$(HOCVU) demo

test: setup-test
	@$(VENV)/bin/python -m pytest -q -p no:cacheprovider $(PYTEST_ARGS)

lint: setup-test
	$(VENV)/bin/ruff check generator tests bench
	$(VENV)/bin/mypy

bench: setup-test
	$(VENV)/bin/python bench/run_all.py

# Messages: extract every translatable sentence into generator/locale/hocvu.pot and merge it into the vi
# and en catalogs (then translate the new or fuzzy entries of vi/LC_MESSAGES/hocvu.po). Keywords: the
# gettext calls, N_ and NP_ (mark only), ui_text (web), Message, NotFoundError.unknown and every class of the
# error tree.
KEYWORDS := N_ NP_:1c,2 ui_text:2 translate Message unknown UnreadableFileError $(shell $(VENV)/bin/python -c \
	"import generator.errors as e; print(' '.join(n for n, c in vars(e).items() if isinstance(c, type) and issubclass(c, e.HocvuError)))")

messages: setup-test
	$(VENV)/bin/pybabel extract -F babel.cfg --no-location --sort-output \
		$(addprefix -k ,$(KEYWORDS)) -o generator/locale/hocvu.pot .
	$(VENV)/bin/pybabel update -D hocvu -i generator/locale/hocvu.pot -d generator/locale --no-fuzzy-matching \
		--ignore-obsolete
