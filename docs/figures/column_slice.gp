# The worked example: the plane of squared scalings u through vanilla LoRA, Theorem 3's and
# Theorem 5's optima; the first-order bound after one SGD step next to the actual loss (tools/figures.sh).
set terminal svg size 1100,500 font 'Helvetica,12' background rgb 'white'
set output out.'/column_slice.svg'
set termoption noenhanced
set multiplot layout 1,2 title "Worked example: the loss after one SGD step (lr = 1/6) from the rescaled factors (27.5 before it),\nover the plane of u = (α², β²) through vanilla, Theorem 3 and Theorem 5; grey: level sets 10.9 … 27.5" font ',12'
pts = data.'/slice.points'
do for [k = 1:2] {
  name = k == 1 ? 'bound' : 'actual'
  grid = data.'/slice_'.name.'.grid'
  set contour base
  unset surface
  set view map
  set cntrparam levels discrete 10.9, 11, 11.25, 11.5, 12, 12.5, 13, 14, 15, 16, 18, 20, 23, 27.5
  set table data.'/slice_'.name.'.contours'
  splot grid using 1:2:3 with lines
  unset table
  unset contour
  set xrange [-2.5:5]
  set yrange [-2.5:5]
  set size ratio -1
  set xlabel 'u along Theorem 3 − vanilla'
  set ylabel 'u towards Theorem 5 (orthogonal part)'
  if (k == 1) { set title "predicted by the first-order bound (★)\n(the lr² term of the factors' product dropped)" } else { set title "actual (the exact increment; for this loss the bound is exact)" }
  col = k == 1 ? 4 : 5
  unset key
  plot data.'/slice_'.name.'.contours' using 1:2 with lines lc rgb '#888888', \
       pts using 1:2 with points pt 7 ps 1.5 lc rgb '#264653', \
       pts every ::0::0 using 1:2:(sprintf('%s: %.3f', stringcolumn(3), column(col))) with labels right offset -1,0.8 font ',10', \
       pts every ::1::1 using 1:2:(sprintf('%s: %.3f', stringcolumn(3), column(col))) with labels left offset 0.5,-1 font ',10', \
       pts every ::2::2 using 1:2:(sprintf('%s: %.3f', stringcolumn(3), column(col))) with labels right offset -1,0.8 font ',10'
}
unset multiplot
