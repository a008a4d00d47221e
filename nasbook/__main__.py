import sys

from nasbook.cli import main

sys.exit(main())
