# The re-split on the worked example: W_pt and A B^T change, W does not (tools/figures.sh).
set terminal svg size 1050,700 font 'Helvetica,12' background rgb 'white'
set output out.'/resplit.svg'
set termoption noenhanced
set palette defined (-1 '#2166ac', 0 '#ffffff', 1 '#b2182b')
set cbrange [-7:7]
unset colorbox
set xrange [-0.5:4.5]
set yrange [4.5:-0.5]
set size ratio -1
unset xtics
unset ytics
names = 'W_pt_before AB_before W W_pt_after AB_after W'
titles = "'W_pt (= 0)' 'A Bᵀ' 'W = W_pt + A Bᵀ' 'W_pt + A diag(1 − α∘β) Bᵀ' 'Ã B̃ᵀ = A diag(α∘β) Bᵀ' 'W: unchanged'"
set multiplot layout 2,3 title "The re-split on the worked example: α = (1, √5), β = (√2, √3) move part of A Bᵀ into W_pt; their sum W stays" font ',13'
do for [i = 1:6] {
  f = data.'/resplit_'.word(names, i).'.matrix'
  set title word(titles, i)
  plot f matrix with image notitle, f matrix using 1:2:(sprintf('%.2f', $3)) with labels font ',10' notitle
}
unset multiplot
